"""The rooms of the house: which parts of `gateway/` may not import which.

Each rule is (importer, forbidden, why). A module matches a prefix when it is that module or
inside that package (`gateway.store` matches `gateway.store.redis`, not `gateway.storefront`).
Imports under `if TYPE_CHECKING:` count too: a cycle hidden from the interpreter is still a
cycle for the reader.

Beyond the rules, no two parts may import each other, however far round: the package-level
import graph (each package under `gateway/`, and each top-level module, is one node) has no
cycle, and `gateway.model` imports nothing of the rest.
"""

from __future__ import annotations

import ast
import doctest
import graphlib
import itertools
from collections.abc import Iterable
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
        (
            "gateway.admin.figures",
            "gateway.admin.charts",
            "gateway.admin.form_figures",
            "gateway.admin.panels",
        ),
        ("gateway.store", "starlette", "gateway.runtime"),
        "the dashboard's figures are pure functions of counts",
    ),
    (
        ("gateway.admin.session",),
        ("gateway.store", "gateway.runtime"),
        "a dashboard session is a signed cookie; where ended sessions are marked is given to it",
    ),
    (
        ("gateway.email.recipients",),
        ("gateway.decision", "starlette", "gateway.runtime"),
        "recipients' consent needs category names, not the tracking decision",
    ),
    (
        (
            "gateway.tracking.hits",
            "gateway.tracking.bodies",
            "gateway.tracking.consent_mode",
            "gateway.tracking.redaction",
            "gateway.delivery.shaping",
        ),
        ("starlette", "gateway.endpoints", "gateway.runtime", "gateway.store"),
        "shaping a hit is pure: the rule, the decision and what the client sent",
    ),
    (
        (
            "gateway.receipts",
            "gateway.email",
            "gateway.forms",
            "gateway.counting",
            "gateway.delivery",
            "gateway.store",
        ),
        ("gateway.tracking",),
        "the analytics edge is one feature: what others share with it is in gateway.model, "
        "gateway.counting (the daily counts) or gateway.delivery (the queue and the sender)",
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
    return {name for name, _ in _import_lines(source, module, is_package=is_package)}


def _import_lines(source: str, module: str, *, is_package: bool = False) -> list[tuple[str, int]]:
    """`_imports_of` with the line of each import (`from a import b` names `a` and `a.b`)."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append((base, node.lineno))
            found.extend((f"{base}.{alias.name}", node.lineno) for alias in node.names)
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


def test_the_model_is_a_leaf() -> None:
    """`gateway.model` holds the records every layer shares; it imports nothing else of ours."""
    found = [
        f"{_module_name(path)} imports {imported}"
        for path in sorted((PACKAGE / "model").rglob("*.py"))
        for imported in sorted(_imports(path))
        if _within(imported, ("gateway",)) and not _within(imported, ("gateway.model",))
    ]
    assert found == []
    assert (PACKAGE / "model" / "__init__.py").exists()


Edges = dict[tuple[str, str], str]  # (importer, imported) part → one import line that makes it


def _part(module: str) -> str | None:
    """The node of the package graph a module belongs to: `gateway.store.redis` → `gateway.store`,
    `gateway.instances` → itself; None outside the gateway (and for `gateway` itself)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "gateway" and len(parts) > 1 else None


def _package_edges(sources: Iterable[tuple[str, str, bool]]) -> Edges:
    """(module, source, is_package) → each edge between two parts, with the first import line
    (in module order) that makes it, as `gateway.x.y:LINE imports gateway.z.w`."""
    edges: Edges = {}
    for module, source, is_package in sources:
        importer = _part(module)
        for imported, line in _import_lines(source, module, is_package=is_package):
            target = _part(imported)
            if importer and target and target != importer:
                edges.setdefault((importer, target), f"{module}:{line} imports {imported}")
    return edges


def _cycle(edges: Edges) -> list[str]:
    """One cycle of the graph, an edge a line (`a -> b: where`), or [] if there is none."""
    graph: dict[str, set[str]] = {}
    for importer, imported in edges:
        graph.setdefault(importer, set()).add(imported)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        # graphlib lists each part before the parts that import it; read it backwards.
        parts = list(reversed(error.args[1]))
        return [f"{a} -> {b}: {edges[a, b]}" for a, b in itertools.pairwise(parts)]
    return []


def _gateway_sources() -> Iterable[tuple[str, str, bool]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield _module_name(path), path.read_text(), path.name == "__init__.py"


def test_no_package_imports_another_that_imports_it_back() -> None:
    """Any cycle between parts of the gateway fails, however long: move the shared definition
    down (to `gateway.model`), or hand the lower part a callable or a protocol."""
    cycle = _cycle(_package_edges(_gateway_sources()))
    assert not cycle, "a package import cycle:\n" + "\n".join(cycle)


def test_the_cycle_check_names_every_edge_of_a_cycle() -> None:
    sources = [
        ("gateway.store.base", "from gateway.model.receipts import Receipt\n", False),
        ("gateway.model.receipts", "import json\n", False),
        ("gateway.tracking", "from . import counters\n", True),
        ("gateway.tracking.counters", "\n\nfrom gateway.store.base import Store\n", False),
        ("gateway.instances", "from gateway.tracking.counters import EventCounter\n", False),
        ("gateway.store.shared", "from ..instances import Heartbeat\n", False),
    ]
    assert _cycle(_package_edges(sources[:4])) == []
    cycle = _cycle(_package_edges(sources))
    assert sorted(cycle) == [
        "gateway.instances -> gateway.tracking: gateway.instances:1 imports "
        "gateway.tracking.counters",
        "gateway.store -> gateway.instances: gateway.store.shared:1 imports gateway.instances",
        "gateway.tracking -> gateway.store: gateway.tracking.counters:3 imports gateway.store.base",
    ]


def _state_reads(source: str) -> list[int]:
    """Lines reading the app's state bag (`request.app.state…`, `app.state.x` loaded): a route
    given its part by `create_app` has no use for it."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Attribute) and node.attr == "state"):
            continue
        owner = node.value
        through_request = isinstance(owner, ast.Attribute) and owner.attr == "app"
        if through_request or (isinstance(owner, ast.Name) and owner.id == "app"):
            lines.append(node.lineno)
    return lines


def test_no_route_reaches_into_the_app_state() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in _state_reads(path.read_text())
    ]
    assert found == []


def _gateway_handles(source: str) -> list[int]:
    """Lines setting or reading `….state.gateway`, in code or in a doctest: the app keeps no
    handle to its gateway (`create_app` builds it and composes the routes with `app_for`;
    tests and benches build it themselves)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a doctest example Python cannot parse alone (a top-level `await`)
        return [1] if "state.gateway" in source else []
    lines = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "gateway"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "state"
    ]
    parser = doctest.DocTestParser()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        docstring = ast.get_docstring(node, clean=False)
        if docstring is None:
            continue
        start = node.body[0].lineno
        for example in parser.get_examples(docstring):
            if _gateway_handles(example.source):
                lines.append(start + example.lineno)
    return sorted(lines)


def test_nothing_in_the_gateway_keeps_a_handle_to_it_in_the_app_state() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in _gateway_handles(path.read_text())
    ]
    assert found == []


def test_the_handle_check_sees_a_set_a_read_and_a_doctest() -> None:
    assert _gateway_handles("app.state.gateway = gateway\n") == [1]
    assert _gateway_handles("def f(request):\n    return request.app.state.gateway.store\n") == [2]
    doctest_read = '"""Parts.\n\n>>> app.state.gateway.store.name\n\'sqlite\'\n"""\n'
    assert _gateway_handles(doctest_read) == [3]
    awaited = '"""Parts.\n\n>>> await app.state.gateway.store.open()\n"""\n'  # not a module
    assert _gateway_handles(awaited) == [3]
    assert _gateway_handles("app.state.other = 1\ngateway.state\nstate.gateway\n") == []


def test_the_state_check_sees_a_read_through_the_request() -> None:
    planted = "def f(request):\n    return request.app.state.gateway\n"
    assert _state_reads(planted) == [2]
    assert _state_reads("def f(app):\n    return app.router\n") == []
