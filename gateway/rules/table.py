"""One TOML table of a rule file being read: typed getters that name the file and the dotted
key in every error (`RuleError`), so a bad rule stops start-up with one line.

>>> RuleTable("acme.toml", {"mode": 3}, ("mode",)).string("mode")
Traceback (most recent call last):
gateway.errors.RuleError: acme.toml: mode: expected a string, got integer 3
"""

from __future__ import annotations

import datetime
import re
from typing import Any, NoReturn, cast, get_args

from gateway.errors import RuleError
from gateway.rules.name_sets import NameSet

# RFC 9110 token characters, plus `[`, `]` for names such as Meta's `cd[value]`.
NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z\[\]-]+")
_HOST = re.compile(
    r"(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)

_REQUIRED: Any = object()


class RuleTable:
    """One TOML table being read: typed getters that name the dotted key on error.

    Unknown keys are rejected up front, so a misspelt key is reported as itself rather
    than as the key it was meant to be going missing.
    """

    def __init__(
        self,
        source: str,
        values: dict[str, Any],
        known: tuple[str, ...],
        prefix: str = "",
        open_keys: bool = False,
    ) -> None:
        self.source, self.values, self.prefix = source, values, prefix
        for key in values:
            if not open_keys and key not in known:
                self.fail(key, f"unknown key (expected one of {', '.join(known)})")

    def fail(self, key: str, problem: str) -> NoReturn:
        raise RuleError(self.source, self.prefix + key, problem)

    def has(self, key: str) -> bool:
        return key in self.values

    def _get(self, key: str, kind: type, default: Any) -> Any:
        if key not in self.values:
            if default is _REQUIRED:
                self.fail(key, f"missing (expected {_KINDS[kind]})")
            return default
        value = self.values[key]
        if type(value) is not kind:  # exact: a TOML boolean must not pass for an integer
            self.fail(key, f"expected {_KINDS[kind]}, got {_describe(value)}")
        return value

    def string(self, key: str, default: Any = _REQUIRED) -> str:
        return cast(str, self._get(key, str, default))

    def optional_string(self, key: str) -> str | None:
        return cast("str | None", self._get(key, str, None))

    def boolean(self, key: str, default: bool) -> bool:
        return cast(bool, self._get(key, bool, default))

    def choice(self, key: str, options: Any, default: Any = _REQUIRED) -> Any:
        """A string from a `Literal[...]` alias; returns it typed as that alias."""
        allowed: tuple[str, ...] = get_args(options)
        value = self._get(key, str, default)
        if value not in allowed:
            self.fail(key, f"expected one of {', '.join(allowed)}; got {value!r}")
        return value

    def strings(self, key: str) -> list[str]:
        values = self._get(key, list, [])
        for index, value in enumerate(values):
            if not isinstance(value, str):
                self.fail(f"{key}[{index}]", f"expected a string, got {_describe(value)}")
        return cast("list[str]", values)

    def names(self, key: str) -> NameSet:
        values = self._get(key, list, [])
        for index, name in enumerate(values):
            where = f"{key}[{index}]"
            if not isinstance(name, str):
                self.fail(where, f"expected a string, got {_describe(name)}")
            marks = name.count("*") + name.count("#")
            if not NAME.fullmatch(name) or marks > 1 or name in ("*", "#"):
                self.fail(where, f"expected a name with at most one '*' or '#', got {name!r}")
        if len(set(values)) != len(values):
            self.fail(key, "expected each name only once")
        return NameSet(tuple(values))

    def hosts(self, key: str) -> tuple[str, ...]:
        values = self._get(key, list, [])
        for index, host in enumerate(values):
            if not isinstance(host, str) or not _HOST.fullmatch(host):
                shown = host if isinstance(host, str) else _describe(host)
                self.fail(
                    f"{key}[{index}]",
                    f"expected a lowercase host name (`*.` allowed first), got {shown!r}",
                )
        if len(set(values)) != len(values):
            self.fail(key, "expected each host only once")
        return tuple(values)

    def fixed_params(self, key: str) -> tuple[tuple[str, str], ...]:
        values = self._get(key, dict, {})
        pairs = []
        for name, value in values.items():
            if not NAME.fullmatch(name) or "*" in name:
                self.fail(f"{key}.{name}", "expected a parameter name without '*'")
            if type(value) not in (str, int):
                self.fail(f"{key}.{name}", f"expected a string or integer, got {_describe(value)}")
            pairs.append((name, str(value)))
        return tuple(pairs)

    def value_lists(self, key: str, within: NameSet) -> tuple[tuple[str, frozenset[str]], ...]:
        """`{ param = ["value", ...] }`: each parameter (one of `within`) and the only values
        it may hold."""
        pinned = []
        for name, allowed in self._get(key, dict, {}).items():
            where = f"{key}.{name}"
            if not NAME.fullmatch(name) or "*" in name or "#" in name:
                self.fail(where, "expected a parameter name without '*' or '#'")
            if name not in within:
                self.fail(where, f"{name!r} is not within allowed_params")
            if not (
                isinstance(allowed, list)
                and allowed
                and all(isinstance(value, str) and value for value in allowed)
            ):
                self.fail(where, f"expected an array of values, got {_describe(allowed)}")
            pinned.append((name, frozenset(allowed)))
        return tuple(pinned)

    def table(self, key: str, known: tuple[str, ...], open_keys: bool = False) -> RuleTable:
        values = self._get(key, dict, _REQUIRED)
        return RuleTable(self.source, values, known, f"{self.prefix}{key}.", open_keys)


_KINDS = {str: "a string", bool: "a boolean", list: "an array", dict: "a table"}


def _describe(value: object) -> str:
    """A TOML value as the user wrote it, roughly: `integer 3`, `boolean true`, `array [...]`."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (list, dict)):
        shown = repr(value)
        return f"{_VALUE_KINDS[type(value)]} {shown if len(shown) <= 40 else shown[:36] + ' ...'}"
    if isinstance(value, (datetime.date, datetime.time)):
        return f"date/time {value.isoformat()}"
    return f"{_VALUE_KINDS.get(type(value), 'value')} {value!r}"


_VALUE_KINDS = {int: "integer", float: "float", str: "string", list: "array", dict: "table"}
