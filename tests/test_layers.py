"""The rooms of the house: which parts of `gateway/` may not import which.

Each rule is (importer, forbidden, why). A module matches a prefix when it is that module or
inside that package (`gateway.store` matches `gateway.store.redis`, not `gateway.storefront`).
Imports under `if TYPE_CHECKING:` count too: a cycle hidden from the interpreter is still a
cycle for the reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gateway"

DECISION_CORE = ("gateway.decision", "gateway.consent", "gateway.rules", "gateway.visitors")
RULES: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (
        DECISION_CORE,
        ("gateway.store", "starlette", "redis", "gateway.endpoints", "gateway.runtime"),
        "the decision core does no I/O and knows no HTTP",
    ),
    (
        ("gateway.store",),
        ("starlette", "gateway.endpoints", "gateway.admin", "gateway.runtime"),
        "the store knows no HTTP",
    ),
    (
        ("gateway.receipts",),
        ("gateway.banner", "starlette", "gateway.endpoints", "gateway.runtime"),
        "receipts know neither the banner nor HTTP: what was shown and the request's facts are "
        "passed in",
    ),
    (
        ("gateway.admin.figures", "gateway.admin.charts", "gateway.admin.form_figures"),
        ("gateway.store", "starlette", "gateway.runtime"),
        "the dashboard's figures are pure functions of counts",
    ),
    (
        ("gateway.email.recipients",),
        ("gateway.decision", "starlette", "gateway.runtime"),
        "recipients' consent needs category names, not the tracking decision",
    ),
    (
        ("gateway.counts",),
        ("gateway",),
        "counter keys are a leaf every layer may use",
    ),
    (
        (
            "gateway.tracking.hits",
            "gateway.tracking.bodies",
            "gateway.tracking.consent_mode",
            "gateway.tracking.redaction",
            "gateway.tracking.encoded",
        ),
        ("starlette", "gateway.endpoints", "gateway.runtime", "gateway.store"),
        "shaping a hit is pure: the rule, the decision and what the client sent",
    ),
    (
        ("gateway.strict_json",),
        ("starlette", "gateway.endpoints"),
        "strict JSON reads bytes, not requests",
    ),
    (
        ("gateway.bodies",),
        ("starlette", "gateway.endpoints", "gateway.runtime", "gateway.store", "gateway.openapi"),
        "bodies are declarations: the decision core, the endpoints and the document use them",
    ),
)

# Known exceptions, each owned by someone removing it. Remove the line with the import.
KNOWN: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    return _imports_of(path.read_text(), _module_name(path), is_package=path.name == "__init__.py")


def _imports_of(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` imports, absolute, including relative and TYPE_CHECKING imports."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for importers, forbidden, why in RULES:
            if not _within(module, importers):
                continue
            for imported in sorted(_imports(path)):
                if _within(imported, forbidden) and not any(
                    _within(imported, (known,)) for m, known in KNOWN if m == module
                ):
                    found.append(f"{module} imports {imported}: {why}")
    return found


def test_no_forbidden_imports() -> None:
    assert _violations() == []


def test_known_exceptions_still_exist() -> None:
    """A fixed exception must leave `KNOWN`, so it cannot come back unnoticed."""
    for module, imported in KNOWN:
        path = PACKAGE.parent / (module.replace(".", "/") + ".py")
        if path.exists() and any(_within(i, (imported,)) for i in _imports(path)):
            continue
        pytest.fail(f"{module} no longer imports {imported}: remove it from KNOWN")


def test_the_walker_sees_hidden_and_relative_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from gateway.store.base import Store\n"
        "from ..endpoints import api\n"
        "def f():\n"
        "    import starlette.requests\n"
    )
    found = _imports_of(source, "gateway.consent.example")
    assert {"gateway.store.base", "gateway.endpoints.api", "starlette.requests"} <= found
    assert not _within("gateway.storefront", ("gateway.store",))
