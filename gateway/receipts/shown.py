"""What a person was shown when they chose: the proof every receipt carries.

A receipt records the language and a SHA-256 of the exact texts shown — the banner's texts with
the operator's overrides merged in, or the email preferences page's — so a later change of copy
cannot be passed off as what the person agreed to. One function makes that hash for every
receipt; a choice made through the API (the gateway showed nothing) records `NOTHING_SHOWN`.

    >>> shown = texts_shown("en", {"title": "Your privacy choices", "save": "Save"})
    >>> shown.language, len(shown.texts_hash)
    ('en', 64)
    >>> shown == texts_shown("en", {"save": "Save", "title": "Your privacy choices"})
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import NamedTuple


class TextsShown(NamedTuple):
    language: str  # "" when nothing was shown
    texts_hash: str  # SHA-256 hex of the texts in canonical JSON, "" when nothing was shown


NOTHING_SHOWN = TextsShown("", "")


def hash_texts(texts: Mapping[str, str]) -> str:
    """SHA-256 of one language's texts in canonical JSON (key order does not matter)."""
    canonical = json.dumps(dict(texts), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def texts_shown(language: str, texts: Mapping[str, str]) -> TextsShown:
    """The proof that `texts`, in `language`, were what the person saw."""
    return TextsShown(language, hash_texts(texts))
