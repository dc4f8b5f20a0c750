"""URL slugs from titles.

Hand-written (a few lines) rather than a dependency: titles are Latin-script English and
Spanish, which NFKD decomposition handles ("Inglés básico" → "ingles-basico")."""

from __future__ import annotations

import re
import unicodedata

MAX_SLUG = 200


def slugify(title: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG].strip("-") or "untitled"


def first_free(base: str, taken: set[str]) -> str:
    """`base`, or the first of base-2, base-3, … not in `taken`."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
