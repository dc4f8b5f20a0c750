"""Free-form JSON from clients, checked so that it is storable in MongoDB and in FerretDB.

Both refuse keys with `.` or a leading `$`; FerretDB also refuses arrays directly inside arrays,
NaN and ±Infinity, and NUL characters. A client who sends such data gets a 422 naming the path,
never a 500 from the database."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator

MAX_DEPTH = 8
MAX_KEYS = 200
MAX_ITEMS = 1000
MAX_STRING = 10_000
MAX_BYTES = 32_768
INT64 = 2**63


def check_storable(value: Any, path: str = "$", depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        _check_object(value, path, depth)
    elif isinstance(value, list):
        _check_array(value, path, depth)
    else:
        _check_scalar(value, path)


def _check_object(value: dict[Any, Any], path: str, depth: int) -> None:
    if len(value) > MAX_KEYS:
        raise ValueError(f"{path}: more than {MAX_KEYS} keys")
    for key, item in value.items():
        if not isinstance(key, str) or not key or len(key) > 100:
            raise ValueError(f"{path}: keys must be 1 to 100 characters")
        if "." in key or key.startswith("$") or "\x00" in key:
            raise ValueError(f"{path}: key {key!r} may not contain '.', NUL or start with '$'")
        check_storable(item, f"{path}.{key}", depth + 1)


def _check_array(value: list[Any], path: str, depth: int) -> None:
    if len(value) > MAX_ITEMS:
        raise ValueError(f"{path}: more than {MAX_ITEMS} items")
    for index, item in enumerate(value):
        if isinstance(item, list):
            raise ValueError(f"{path}[{index}]: arrays may not directly contain arrays")
        check_storable(item, f"{path}[{index}]", depth + 1)


def _check_scalar(value: Any, path: str) -> None:
    if isinstance(value, str):
        if "\x00" in value or len(value) > MAX_STRING:
            raise ValueError(f"{path}: strings may not contain NUL or exceed {MAX_STRING} chars")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not -INT64 <= value < INT64:
            raise ValueError(f"{path}: integer out of the 64-bit range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: numbers must be finite")
    else:
        raise ValueError(f"{path}: unsupported value of type {type(value).__name__}")


def storable_checker(max_bytes: int = MAX_BYTES) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A validator: storable, and at most `max_bytes` once encoded."""

    def check(value: dict[str, Any]) -> dict[str, Any]:
        check_storable(value)
        if len(orjson.dumps(value)) > max_bytes:
            raise ValueError(f"larger than {max_bytes} bytes once encoded")
        return value

    return check


StorableObject = Annotated[dict[str, Any], AfterValidator(storable_checker())]


def storable_text(value: str, max_length: int) -> str:
    """A string from a request, made storable: NUL replaced, length bounded."""
    return value.replace("\x00", "\ufffd")[:max_length]


# -- bounded copies, for records that quote other documents (audit before/after, exports) ----

SUMMARY_MARK = "_summarised"


def encoded_size(value: Any) -> int:
    return len(orjson.dumps(value, default=str))


def summary_of(value: Any) -> dict[str, Any]:
    """What stands in for a value too large to keep: its size and hash (so two summaries say
    whether the values were equal), its kind, and its first characters."""
    encoded = orjson.dumps(value, default=str)
    return {
        SUMMARY_MARK: True,
        "type": type(value).__name__,
        "bytes": len(encoded),
        "sha256": hashlib.sha256(encoded).hexdigest(),
        "preview": encoded[:80].decode(errors="replace"),
    }


def bounded(value: Any, max_bytes: int, *, max_value_bytes: int = 1024, max_keys: int = 100) -> Any:
    """`value` if it encodes within `max_bytes`; else, for a mapping, the mapping with each
    value over `max_value_bytes` summarised; else (still too large, too many keys, or not a
    mapping) a summary of the whole."""
    if encoded_size(value) <= max_bytes:
        return value
    if isinstance(value, dict) and len(value) <= max_keys:
        kept = {
            key: item if encoded_size(item) <= max_value_bytes else summary_of(item)
            for key, item in value.items()
        }
        if encoded_size(kept) <= max_bytes:
            return kept
    return summary_of(value)
