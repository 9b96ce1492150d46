"""Reading the settings once, at start: an optional TOML file (flat keys such as
`policy_revision = 3`, or sectioned tables such as `[consent] revision = 3`), then the flat
`GATEWAY_*` variables, then typed overrides from the command line.

    >>> load_settings(environ={"GATEWAY_POLICY_REVISION": "3"}).consent.revision
    3
    >>> from_keys(delivery_shards=4).delivery.shards
    4
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from gateway.settings import sections
from gateway.settings.anchoring import anchor_paths, split_policy_urls
from gateway.settings.checks import check
from gateway.settings.keys import ENV_PREFIX, Key, section_keys
from gateway.toml_files import read_toml

CONFIG_VARIABLE = "GATEWAY_CONFIG"
SECTIONS: dict[str, type[Any]] = {
    "site": sections.SiteSection,
    "rules": sections.RulesSection,
    "store": sections.StoreSection,
    "consent": sections.ConsentSection,
    "banner": sections.BannerSection,
    "tracking": sections.TrackingSection,
    "delivery": sections.DeliverySection,
    "email": sections.EmailSection,
    "forms": sections.FormsSection,
    "admin": sections.AdminSection,
    "network": sections.NetworkSection,
    "retention": sections.RetentionSection,
    "archive": sections.ArchiveSection,
}
KEYS: dict[str, Key] = {
    k.flat: k for name, cls in SECTIONS.items() for k in section_keys(name, cls)
}
_BY_SECTION = {(k.section, k.name): k for k in KEYS.values()}
_WORKED_OUT = {"policy_urls": ("consent", "urls")}  # flat values that no one writes


def from_keys(**values: Any) -> sections.Settings:
    """Settings from typed values under their flat names (`policy_revision=3`), unchecked;
    every key not given keeps its default. A `policy_url` table is split as on load."""
    split_policy_urls(values)
    grouped: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for flat, value in values.items():
        if flat in KEYS:
            grouped[KEYS[flat].section][KEYS[flat].name] = value
        elif flat in _WORKED_OUT:
            section, name = _WORKED_OUT[flat]
            grouped[section][name] = value
        else:
            raise TypeError(f"from_keys: no setting is named {flat!r}")
    built = {name: SECTIONS[name](**fields) for name, fields in grouped.items()}
    return sections.Settings(**built)


def load_settings(
    config_path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> sections.Settings:
    """Build the settings from a TOML file (or `GATEWAY_CONFIG`), then `GATEWAY_*` variables,
    then keyword `overrides` (typed, by flat name; used by the CLI for flags like `--demo`).
    Any mistake raises `ConfigError`: one line naming the file or variable and the key."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    written: dict[str, tuple[str, str]] = {}  # flat name → (source, key as written)
    path = config_path or environ.get(CONFIG_VARIABLE)
    if path:
        for flat, (name, value) in _read_file(Path(path)).items():
            values[flat] = value
            written[flat] = (str(path), name)
        values["_from_file"] = tuple(values)
    for variable, raw in environ.items():
        if not variable.startswith(ENV_PREFIX) or variable == CONFIG_VARIABLE:
            continue
        flat = variable[len(ENV_PREFIX) :].lower()
        if flat not in KEYS:
            raise ConfigError("environment", variable, "unknown setting")
        values[flat] = _parse(f"environment {variable}", flat, KEYS[flat], raw)
        written[flat] = (f"environment {variable}", flat)
    values.update(overrides)
    anchor_paths(values, Path(path) if path else None)
    settings = from_keys(**values)
    check(settings, KEYS, written)
    return settings


def _read_file(path: Path) -> dict[str, tuple[str, Any]]:
    """Flat name → (the key as the file writes it, its parsed value)."""
    found: dict[str, tuple[str, Any]] = {}

    def take(name: str, declared: Key, raw: Any) -> None:
        if declared.flat in found:
            first = found[declared.flat][0]
            raise ConfigError(str(path), name, f"set twice (also as {first}): keep one")
        found[declared.flat] = (name, _parse(str(path), name, declared, raw))

    for name, raw in read_toml(path).items():
        if name in SECTIONS and isinstance(raw, dict):
            for inner, value in raw.items():
                declared = _BY_SECTION.get((name, inner))
                if declared is None:
                    known = ", ".join(k.name for k in KEYS.values() if k.section == name)
                    raise ConfigError(
                        str(path), f"{name}.{inner}", f"unknown setting (known: {known})"
                    )
                take(f"{name}.{inner}", declared, value)
        elif name in KEYS:
            take(name, KEYS[name], raw)
        else:
            known = ", ".join([*KEYS, *(f"[{section}]" for section in SECTIONS)])
            raise ConfigError(str(path), name, f"unknown setting (known: {known})")
    return found


def _parse(source: str, name: str, declared: Key, raw: Any) -> Any:
    try:
        return declared.parse(raw)
    except TypeError as error:
        raise ConfigError(source, name, str(error)) from None
