"""The score of a mutation run: mutmut's results for one module, less the reviewed equivalents.

Pure functions over what mutmut leaves in `mutants/<module>.meta` (its exit code per mutant)
and the diffs of the mutants that were not killed; `tests/mutation/run.py` does the running.
Nothing here imports mutmut, so the unit suite tests it without mutmut installed.

An equivalent mutant is named by what it changes, not by mutmut's number (which moves whenever
the function is edited): the module, the function (`decide`, `CircuitBreaker.state`), and the
lines the mutant removes and adds, stripped of indentation. Each carries the reviewer's reason.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

THRESHOLD = 95.0  # per module, equivalents excluded: `make mutate` fails below it

# mutmut 3.8's exit codes (mutmut/stats.py); any other code is a mutant that was not killed.
_KILLED_CODES = {1: "killed", 3: "killed", 37: "caught by type check"}
_TIMEOUT_CODES = {24, -24, 36, 152, 255}
_OTHER_CODES = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 2: "interrupted"}
_CLASS_SEPARATOR = "ǁ"  # mutmut's mangling of a method: x ǁClassǁmethod


def status_of(exit_code: int | None) -> str:
    """A mutant's status from the exit code of its test run (None: never run)."""
    if exit_code is None:
        return "not checked"
    if exit_code in _KILLED_CODES:
        return _KILLED_CODES[exit_code]
    if exit_code in _TIMEOUT_CODES:
        return "timeout"  # the mutant made the tests hang: caught
    return _OTHER_CODES.get(exit_code, "suspicious")


def is_killed(status: str) -> bool:
    return status in ("killed", "caught by type check", "timeout")


def function_of(mutant_name: str) -> str:
    """`gateway.decision.x_decide__mutmut_3` → `decide`; a method → `Class.method`."""
    mangled = mutant_name.partition("__mutmut_")[0].rpartition(".")[2]
    if _CLASS_SEPARATOR in mangled:
        _, cls, method = mangled.split(_CLASS_SEPARATOR)
        return f"{cls}.{method}"
    return mangled.removeprefix("x_")


def change_of(diff: str) -> tuple[str, str]:
    """The lines a unified diff removes and adds, each stripped, joined by newlines."""
    lines = diff.splitlines()
    removed = [ln[1:].strip() for ln in lines if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:].strip() for ln in lines if ln.startswith("+") and not ln.startswith("+++")]
    return "\n".join(removed), "\n".join(added)


@dataclass(frozen=True, slots=True)
class Mutant:
    name: str
    status: str
    diff: str = ""  # read only for the mutants that were not killed

    @property
    def function(self) -> str:
        return function_of(self.name)


@dataclass(frozen=True, slots=True)
class Equivalent:
    module: str
    function: str
    removed: str
    added: str
    reason: str

    def matches(self, module: str, mutant: Mutant) -> bool:
        return (
            self.module == module
            and self.function == mutant.function
            and (self.removed, self.added) == change_of(mutant.diff)
        )


@dataclass(frozen=True, slots=True)
class ModuleScore:
    module: str
    mutants: int
    killed: int
    equivalents: int
    survivors: tuple[Mutant, ...] = field(default=())

    @property
    def score(self) -> float:
        counted = self.mutants - self.equivalents
        return 100.0 if counted == 0 else 100.0 * self.killed / counted

    def passes(self, threshold: float = THRESHOLD) -> bool:
        return self.mutants > 0 and self.score >= threshold


def read_exit_codes(meta: Path) -> dict[str, int | None]:
    """mutmut's exit code per mutant of one module, from its `.meta` file."""
    data = json.loads(meta.read_text("utf-8"))
    codes: Mapping[str, int | None] = data["exit_code_by_key"]
    return dict(codes)


def load_equivalents(path: Path) -> list[Equivalent]:
    """The reviewed equivalent mutants; an entry without a reason is refused."""
    entries = tomllib.loads(path.read_text("utf-8")).get("equivalent", [])
    keys = ("module", "function", "removed", "added", "reason")
    found = []
    for number, entry in enumerate(entries, start=1):
        missing = [key for key in keys if not str(entry.get(key, "")).strip()]
        if missing or set(entry) - set(keys):
            raise ValueError(f"{path}: equivalent #{number}: needs exactly {', '.join(keys)}")
        found.append(Equivalent(*(str(entry[key]).strip() for key in keys)))
    return found


def score_module(
    module: str, mutants: Iterable[Mutant], equivalents: Iterable[Equivalent]
) -> tuple[ModuleScore, set[Equivalent]]:
    """The module's score, and the equivalents of this module that matched a mutant."""
    mutants = list(mutants)
    own = [e for e in equivalents if e.module == module]
    used: set[Equivalent] = set()
    killed = equivalent = 0
    survivors = []
    for mutant in mutants:
        if is_killed(mutant.status):
            killed += 1
            continue
        match = next((e for e in own if e.matches(module, mutant)), None)
        if match is not None and mutant.status == "survived":
            used.add(match)
            equivalent += 1
        else:
            survivors.append(mutant)
    return ModuleScore(module, len(mutants), killed, equivalent, tuple(survivors)), used


def table(scores: Iterable[ModuleScore], threshold: float = THRESHOLD) -> str:
    """A Markdown table: module, mutants, killed, equivalents, survivors, score."""
    rows = [
        "| module | mutants | killed | equivalent | survived | score |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        mark = "" if s.passes(threshold) else f" (below {threshold:.0f} %)"
        rows.append(
            f"| `{s.module}` | {s.mutants} | {s.killed} | {s.equivalents} | "
            f"{len(s.survivors)} | {s.score:.1f} %{mark} |"
        )
    return "\n".join(rows)
