"""Every exception class in `gateway/` is in the documented tree of `gateway.errors`.

Each module is imported and each exception class it defines must derive from `GatewayError`
and be named in the tree drawn in `gateway.errors`' docstring, so a new `class X(Exception)`
anywhere fails here until it finds its place and its line.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import gateway
from gateway import errors


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module_info in pkgutil.walk_packages(gateway.__path__, "gateway."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                found[f"{module.__name__}.{name}"] = value
    return found


def _drawn_names() -> set[str]:
    """The class names on the lines of the tree (`├── Name`, `└── Name`)."""
    return set(re.findall(r"[├└]── (\w+)", errors.__doc__ or "")) | {"GatewayError"}


def test_the_walk_finds_exceptions_outside_errors_py() -> None:
    found = _exception_classes()
    assert "gateway.delivery.sender.AnswerLost" in found  # the walk reaches sub-packages
    assert "gateway.errors.ClientError" in found


def test_every_exception_derives_from_gateway_error() -> None:
    outside = sorted(
        path
        for path, cls in _exception_classes().items()
        if not issubclass(cls, errors.GatewayError)
    )
    assert outside == [], f"exceptions outside the tree: {outside}"


def test_every_exception_is_drawn_in_the_tree() -> None:
    drawn = _drawn_names()
    undrawn = sorted(path for path in _exception_classes() if path.rsplit(".", 1)[1] not in drawn)
    assert undrawn == [], f"not in gateway.errors' docstring: {undrawn}"


def test_the_tree_names_only_classes_that_exist() -> None:
    defined = {path.rsplit(".", 1)[1] for path in _exception_classes()}
    assert _drawn_names() - defined == set()


def test_the_drawing_shows_each_parent() -> None:
    """A class drawn under another in the docstring derives from it."""
    classes = {path.rsplit(".", 1)[1]: cls for path, cls in _exception_classes().items()}
    parents: list[tuple[int, str]] = []  # (depth, name) of the current branch
    for line in (errors.__doc__ or "").splitlines():
        drawn = re.search(r"[├└]── (\w+)", line)
        if line.startswith("GatewayError"):
            parents = [(-1, "GatewayError")]
            continue
        if drawn is None:
            continue
        depth = drawn.start() // 4
        while parents and parents[-1][0] >= depth:
            parents.pop()
        name = drawn.group(1)
        assert classes[name].__bases__[0] is classes[parents[-1][1]], (name, parents[-1][1])
        parents.append((depth, name))
