"""Secrets and personal data scrubbed from text that goes to logs and the error log.

Bound parameters never reach a message (the engine runs with `hide_parameters`), but the
servers' own messages quote values: PostgreSQL's `Key (email)=(ann@example.com) already
exists` and `Failing row contains (…, $argon2id$…)`, a driver's echo of a token. What such text
may contain is known in shape, so it is replaced by shape: better a log line that says
`[redacted]` than a password hash any operator can read."""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PostgreSQL's DETAIL lines quote the row or the key values that broke a constraint; each
    # is one line, and a key may be an expression with parentheses of its own.
    (re.compile(r"(Failing row contains ).*$", re.M), rf"\1({REDACTED})."),
    (
        re.compile(r"(Key \(.*?\)=)\(.*?\)( already exists| is not present| is still referenced)"),
        rf"\1({REDACTED})\2",
    ),
    (re.compile(r"(Key \(.*?\)=)\((?!\[redacted\]\)).*$", re.M), rf"\1({REDACTED})"),
    # SQLAlchemy's line with the statement's parameters (hide_parameters keeps it out anyway).
    (re.compile(r"^\[parameters: .*$", re.M), f"[parameters: {REDACTED}]"),
    (re.compile(r"\$argon2(?:id|i|d)\$[^\s'\",)]+"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/-]+=*"), rf"\1 {REDACTED}"),
    (
        re.compile(
            r"(?i)\b((?:password|passwd|pwd|secret|token|api[_-]?key)[\"']?\s*[=:]\s*)"
            r"(?:\"[^\"]*\"|'[^']*'|[^\s,;&)]+)"
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), REDACTED),
)


def scrub(text: str) -> str:
    """`text` without the secret and personal values it may quote."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
