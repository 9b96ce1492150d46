"""What the undeclared cookies and storage keys are, by the cookie database, for the reports.

>>> from gateway.audit.cookie_database import load_database
>>> item = Item("finding", "undeclared-cookie", "none", "https://shop.example/", "_clck",
...     "script https://www.clarity.ms/tag.js", "", "")
>>> [(k.name, k.entry.platform) for k in undeclared([item], load_database())]
[('_clck', 'Microsoft Clarity')]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.audit.cookie_database import CookieDatabase, CookieEntry
from gateway.audit.judge import Item

CODES = {"undeclared-cookie": "cookie", "undeclared-storage": "storage"}


@dataclass(frozen=True, slots=True)
class Known:
    """One undeclared cookie or storage key: where it was met, and what the database says."""

    kind: str  # cookie | localStorage | sessionStorage
    name: str
    states: tuple[str, ...]
    cause: str
    entry: CookieEntry | None  # None: the database does not know it


def undeclared(items: Iterable[Item], database: CookieDatabase) -> list[Known]:
    """Each undeclared cookie and key once, in the order met, with the states it was in."""
    found: dict[tuple[str, str], tuple[list[str], str]] = {}
    for item in items:
        kind = CODES.get(item.code)
        if kind is None:
            continue
        name = item.subject
        if kind == "storage":
            kind, _, name = item.subject.partition(":")
        states, _ = found.setdefault((kind, name), ([], item.cause))
        if item.state not in states:
            states.append(item.state)
    return [
        Known(kind, name, tuple(states), cause, database.lookup(name))
        for (kind, name), (states, cause) in found.items()
    ]
