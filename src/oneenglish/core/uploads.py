"""A file uploaded as multipart/form-data, read as it arrives: its bytes are handed on a piece at
a time and never held whole, and a body past the limit is refused (413) as soon as the limit
is passed (at once, when Content-Length already says so).

Starlette's `request.form()` spools every file part to a temporary file before the endpoint
runs and has no size limit for file parts, so this drives python-multipart's streaming parser
(the one Starlette itself uses) directly, over `request.stream()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from oneenglish.core.errors import BadRequest, PayloadTooLarge

# Room for the part headers and boundaries around the file itself.
ENVELOPE_BYTES = 16 * 1024


@dataclass
class _Parts:
    """What the parser's callbacks saw: the file part's bytes since the last hand-over."""

    field_name: bytes = b""
    header_field: bytes = b""
    header_value: bytes = b""
    current: bytes | None = None  # the name of the part being read
    filename: str | None = None
    pending: list[bytes] = field(default_factory=list)
    files_seen: int = 0
    done: bool = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_field.lower() == b"content-disposition":
            _, options = parse_options_header(self.header_value)
            self.current = options.get(b"name", b"")
            raw = options.get(b"filename")
            if self.current == b"file":
                self.filename = raw.decode("utf-8", "replace") if raw is not None else None
        self.header_field = self.header_value = b""

    def on_headers_finished(self) -> None:
        if self.current == b"file":
            self.files_seen += 1

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.current == b"file" and self.files_seen == 1:
            self.pending.append(data[start:end])

    def on_part_end(self) -> None:
        self.current = None

    def on_end(self) -> None:
        self.done = True


class FilePart:
    """The `file` part of a multipart upload: `filename`, then its bytes by iterating."""

    def __init__(self, request: Request, max_bytes: int) -> None:
        content_type, options = parse_options_header(request.headers.get("content-type"))
        if content_type != b"multipart/form-data" or b"boundary" not in options:
            raise BadRequest("Send the file as multipart/form-data, in a part named `file`")
        declared = request.headers.get("content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > max_bytes + ENVELOPE_BYTES
        ):
            raise PayloadTooLarge(f"The file may be at most {max_bytes} bytes", max_bytes=max_bytes)
        self.request = request
        self.max_bytes = max_bytes
        self.parts = _Parts()
        self.parser = MultipartParser(
            options[b"boundary"],
            {
                "on_header_field": self.parts.on_header_field,
                "on_header_value": self.parts.on_header_value,
                "on_header_end": self.parts.on_header_end,
                "on_headers_finished": self.parts.on_headers_finished,
                "on_part_data": self.parts.on_part_data,
                "on_part_end": self.parts.on_part_end,
                "on_end": self.parts.on_end,
            },
        )
        self.size = 0

    @property
    def filename(self) -> str | None:
        return self.parts.filename

    async def _body(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.request.stream():
                yield chunk
        except ClientDisconnect as exc:
            # Nobody is left to answer; what was stored of the upload is aborted by its caller.
            raise BadRequest("The upload was cut off before its end") from exc

    async def __aiter__(self) -> AsyncIterator[bytes]:
        body = 0
        async for chunk in self._body():
            body += len(chunk)
            if body > self.max_bytes + ENVELOPE_BYTES:
                raise PayloadTooLarge(
                    f"The file may be at most {self.max_bytes} bytes", max_bytes=self.max_bytes
                )
            try:
                self.parser.write(chunk)
            except MultipartParseError as exc:
                raise BadRequest(f"The multipart body is malformed ({exc})") from exc
            for piece in self.parts.pending:
                self.size += len(piece)
                if self.size > self.max_bytes:
                    raise PayloadTooLarge(
                        f"The file may be at most {self.max_bytes} bytes",
                        max_bytes=self.max_bytes,
                    )
                yield piece
            self.parts.pending.clear()
        if not self.parts.done:
            raise BadRequest("The multipart body ended early")
        if self.parts.files_seen != 1:
            raise BadRequest("Send exactly one part named `file`")
