"""`NameSet`: parameter and cookie names of a rule, where a name may hold one `*` (one or more
characters) or one `#` (one or more digits); membership remembered for the names clients send.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MEMO_NAMES = 1024
MEMO_NAME_LENGTH = 64


@dataclass(frozen=True, slots=True)
class NameSet:
    """A set of parameter or cookie names, where a name may hold one `*` wildcard.

    >>> params = NameSet(("v", "ep.*", "cd[*]", "pr#"))
    >>> "ep.page" in params, "cd[value]" in params, "ep." in params, "cid" in params
    (True, True, False, False)
    >>> "pr12" in params, "prEmail" in params, "pr" in params
    (True, False, False)
    """

    patterns: tuple[str, ...] = ()
    # Names already matched: every hit asks about the same few, and a miss walks every
    # wildcard. Bounded (`MEMO_NAMES` names of at most `MEMO_NAME_LENGTH` characters): the
    # names come from clients; past the bound a name is matched each time.
    _memo: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)
    _exact: frozenset[str] = field(init=False, repr=False, compare=False)
    _wildcards: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)
    _numbered: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exact = frozenset(p for p in self.patterns if "*" not in p and "#" not in p)
        wildcards = tuple(_split(p) for p in self.patterns if "*" in p)
        numbered = tuple(_split(p, "#") for p in self.patterns if "#" in p)
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_wildcards", wildcards)
        object.__setattr__(self, "_numbered", numbered)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        found = self._memo.get(name)
        if found is None:
            found = self._matches(name)
            if len(self._memo) < MEMO_NAMES and len(name) <= MEMO_NAME_LENGTH:
                self._memo[name] = found
        return found

    def _matches(self, name: str) -> bool:
        if name in self._exact:
            return True
        if any(_matches(name, head, tail) for head, tail in self._wildcards):
            return True
        return any(
            _matches(name, head, tail) and _ascii_digits(name[len(head) : len(name) - len(tail)])
            for head, tail in self._numbered
        )

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def covers(self, pattern: str) -> bool:
        """Whether every name `pattern` matches is also in this set."""
        if "*" not in pattern and "#" not in pattern:
            return pattern in self
        if "#" in pattern and pattern in self.patterns:
            return True
        head, tail = _split(pattern, "#" if "#" in pattern else "*")
        return any(head.startswith(h) and tail.endswith(t) for h, t in self._wildcards)


def _split(pattern: str, mark: str = "*") -> tuple[str, str]:
    head, _, tail = pattern.partition(mark)
    return head, tail


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # `pr١` or `pr²` is no GA4 product index


def _matches(name: str, head: str, tail: str) -> bool:
    # The wildcard stands for at least one character, so `ep.*` does not match `ep.`.
    return len(name) > len(head) + len(tail) and name.startswith(head) and name.endswith(tail)
