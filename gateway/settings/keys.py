"""How a setting is declared: once, as a field of its section with `key(...)`, which gives its
default, its parser, its range and its flat name (the TOML key and `GATEWAY_*` variable).

    >>> from gateway.settings.sections import DeliverySection
    >>> declared = {k.flat: k for k in section_keys("delivery", DeliverySection)}
    >>> declared["delivery_shards"].variable, declared["delivery_shards"].written
    ('GATEWAY_DELIVERY_SHARDS', 'delivery.shards')
    >>> declared["delivery_shards"].problem(65)
    'expected 1 to 64, got 65'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

ENV_PREFIX = "GATEWAY_"
_UNITS = ("seconds", "days", "minutes", "bytes")


@dataclass(frozen=True, slots=True)
class Bounds:
    """The parser and range of one key, kept in its field's metadata."""

    parse: Callable[[Any], Any]
    flat: str | None  # None: the field's own name
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class Key:
    """One declared setting: where it lives (`[section] name`) and how it is read."""

    section: str
    name: str
    flat: str  # the flat TOML key, and the variable's name without its prefix
    type: str  # the annotation, as written
    default: Any
    bounds: Bounds

    @property
    def variable(self) -> str:
        return f"{ENV_PREFIX}{self.flat.upper()}"

    @property
    def written(self) -> str:
        """The key as a sectioned TOML file writes it."""
        return f"{self.section}.{self.name}"

    def parse(self, raw: Any) -> Any:
        return self.bounds.parse(raw)

    def problem(self, value: Any) -> str | None:
        """What is wrong with an in-range check of `value`, or None."""
        low, high = self.bounds.low, self.bounds.high
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        unit = next((f" {u}" for u in _UNITS if self.flat.endswith(u)), "")
        if high is None and low is not None and value < low:
            kind = "an integer" if isinstance(value, int) else "a number"
            return f"expected {kind} ≥ {_figure(low)}{unit}, got {_figure(value)}"
        if low is not None and high is not None and not low <= value <= high:
            return f"expected {_figure(low)} to {_figure(high)}{unit}, got {_figure(value)}"
        return None


def key(
    default: Any,
    parse: Callable[[Any], Any],
    *,
    flat: str | None = None,
    low: float | None = None,
    high: float | None = None,
    secret: bool = False,
) -> Any:
    """Declare a setting as a section field (typed `Any` so it fits any annotation)."""
    bounds = Bounds(parse, flat, low, high)
    return field(default=default, repr=not secret, metadata={"key": bounds})


def section_keys(section: str, cls: type[Any]) -> Iterator[Key]:
    """The keys a section class declares, in declaration order."""
    for item in dataclasses.fields(cls):
        bounds = item.metadata.get("key")
        if isinstance(bounds, Bounds):
            flat = bounds.flat or item.name
            yield Key(section, item.name, flat, str(item.type), item.default, bounds)


def _figure(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
