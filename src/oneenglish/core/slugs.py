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
