"""One strict decoder for every JSON body the gateway takes: msgspec checks the shape (types,
lengths, ranges, patterns, unknown fields), and its error becomes the body's own message.

Each body names what a person should read for each field in a `problems` table (a `ClassVar`
of the struct): the key is the field's path (`"app.id"`, `"purposes[].label"`), the value its
message. In a message, `{where}` is where the field is, as the client wrote it (`"purposes"[2]`),
and `{value}` the value sent (its `repr`). A bad value without an entry gets its parent's.

    >>> from gateway.bodies.choices import AppPoint
    >>> decode({"id": "com.example.shop"}, AppPoint)
    AppPoint(id='com.example.shop', screen='')
    >>> decode({"id": 42}, AppPoint)
    Traceback (most recent call last):
    ...
    gateway.errors.Unprocessable: "id" does not have the declared type or form
    >>> decode({"id": "com.example.shop", "colour": "red"}, AppPoint)
    Traceback (most recent call last):
    ...
    gateway.errors.Unprocessable: unknown field(s): colour

Patterns end in `\\Z`, Python's "end of text" (its `$` also matches before a final newline);
`gateway.openapi` writes them with JSON Schema's `$`, which means the same there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as types

from gateway.errors import Unprocessable

Shape = TypeVar("Shape", bound=msgspec.Struct)
# msgspec ends a message with where it happened (`$.purposes[2].label`); only field names and
# indices make that path, so it is read from the end, never from what the client wrote.
_AT = re.compile(r" - at `\$(?P<path>(?:\.\w+|\[\d+\])*)`\Z")
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")
_UNKNOWN = "Object contains unknown field"
_MISSING = re.compile(r"Object missing required field `(\w+)`\Z")


@dataclass(frozen=True, slots=True)
class Problem:
    """The message for a bad value, and for an absent one (None: `"field" is required`, or
    `"items"[2] lacks field` inside a list)."""

    message: str
    missing: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


Problems = Mapping[str, str | Problem]


def decode(document: Any, shape: type[Shape]) -> Shape:
    """`document` (parsed JSON) as a `shape`, or `Unprocessable` (422) with the field's message."""
    if not isinstance(document, dict):
        raise Unprocessable("the body must be a JSON object")
    try:
        return msgspec.convert(document, shape, strict=True)
    except msgspec.ValidationError as error:
        raise _unprocessable(str(error), document, shape) from None


def _unprocessable(error: str, document: Any, shape: type[msgspec.Struct]) -> Unprocessable:
    at = _AT.search(error)
    what = error[: at.start()] if at else error
    steps: list[str | int] = [
        name if name else int(index) for name, index in _STEP.findall(at["path"] if at else "")
    ]
    problems: Problems = getattr(shape, "problems", {})
    if what.startswith(_UNKNOWN):  # the field's name is the client's: found in the document
        found = _first_unknown(document, types.type_info(shape), [])
        if found is None:  # not where msgspec looks: still a refusal, never a 500
            return Unprocessable("the body holds a field its shape does not declare")
        steps, fields, unknown = found
        if (problem := _lookup(problems, steps, inherit=False)) is None:
            listed = ", ".join(sorted(unknown))
            return Unprocessable(f"unknown field(s): {listed}", allowed=sorted(fields))
        return _raised(problem.message, steps, None, problem.extra)
    if missing := _MISSING.fullmatch(what):
        name = missing[1]
        problem = _lookup(problems, [*steps, name], inherit=False)
        if problem is not None and problem.missing is not None:
            return _raised(problem.missing, steps, None, problem.extra)
        if not steps:
            return Unprocessable(f'"{name}" is required')
        lacking = sorted(_fields(shape, steps, required=True) - set(_value_at(document, steps)))
        return Unprocessable(f"{_where(steps)} lacks {', '.join(lacking)}")
    if (problem := _lookup(problems, steps)) is None:
        return Unprocessable(f"{_path(steps)} does not have the declared type or form")
    return _raised(problem.message, steps, _value_at(document, steps), problem.extra)


def _lookup(problems: Problems, steps: list[str | int], *, inherit: bool = True) -> Problem | None:
    """The entry for the path of `steps`; with `inherit`, the nearest parent's when it has none
    (a bad item of `"granted"` gets the message of `"granted"`)."""
    key = "".join("[]" if isinstance(step, int) else f".{step}" for step in steps).lstrip(".")
    while key:
        if key in problems:
            found = problems[key]
            return found if isinstance(found, Problem) else Problem(found)
        if not inherit:
            return None
        key = key.removesuffix("[]") if key.endswith("[]") else key.rpartition(".")[0]
    return None


def _raised(
    message: str, steps: list[str | int], value: Any, extra: Mapping[str, object]
) -> Unprocessable:
    text = message.replace("{where}", _where(steps)).replace("{value}", repr(value))
    return Unprocessable(text, **extra)


def _where(steps: list[str | int]) -> str:
    """The item the problem is in, as the client would find it in its JSON: `"purposes"[2]`
    for any field of that item, `"app"` for a field of `"app"`; `the body` at the top."""
    last_item = max((i for i, step in enumerate(steps) if isinstance(step, int)), default=-1)
    return _path(steps[: last_item + 1] if last_item >= 0 else steps[:1])


def _path(steps: list[str | int]) -> str:
    parts = [f"[{step}]" if isinstance(step, int) else f'"{step}"' for step in steps[:1]]
    parts += [f"[{step}]" if isinstance(step, int) else f".{step}" for step in steps[1:]]
    return "".join(parts) or "the body"


def _value_at(document: Any, steps: list[str | int]) -> Any:
    for step in steps:
        document = document[step]
    return document


def _bare(info: types.Type) -> types.Type:
    """`info` without its constraints and without `None` (an optional field's other choice)."""
    while True:
        if isinstance(info, types.Metadata):
            info = info.type
        elif isinstance(info, types.UnionType):
            info = next(t for t in info.types if not isinstance(t, types.NoneType))
        else:
            return info


def _fields(
    shape: type[msgspec.Struct], steps: list[str | int], required: bool = False
) -> set[str]:
    """The field names of the struct found at `steps` inside `shape`."""
    info = _bare(types.type_info(shape))
    for step in steps:
        if isinstance(info, types.StructType):
            info = _bare(next(f.type for f in info.fields if f.encode_name == step))
        elif isinstance(info, types.ListType):
            info = _bare(info.item_type)
    assert isinstance(info, types.StructType)
    return {f.encode_name for f in info.fields if f.required or not required}


Unknown = tuple[list[str | int], set[str], set[str]]


def _first_unknown(document: Any, info: types.Type, steps: list[str | int]) -> Unknown | None:
    """Where the first object holding a field its struct does not declare is, its declared
    fields and the unknown ones (msgspec stops at the first; a person wants them all)."""
    info = _bare(info)
    if isinstance(info, types.StructType) and isinstance(document, dict):
        fields = {f.encode_name: f.type for f in info.fields}
        if unknown := set(document) - set(fields):
            return steps, set(fields), unknown
        for name, value in document.items():
            if found := _first_unknown(value, fields[name], [*steps, name]):
                return found
    elif isinstance(info, types.ListType) and isinstance(document, list):
        for index, item in enumerate(document):
            if found := _first_unknown(item, info.item_type, [*steps, index]):
                return found
    return None
