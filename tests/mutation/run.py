"""`make mutate`: mutmut over each core module with only the tests that cover it, and a score.

    python -m tests.mutation.run                          # every module in modules.toml
    python -m tests.mutation.run gateway/decision.py      # one (or a few) while working on it

Each module runs in its own scratch copy, `var/mutate/<module>/` (mutmut reads its settings from
the current folder's pyproject.toml and keeps its state in `mutants/` there), always from a clean
slate. mutmut's own output goes to `mutmut.log` beside it. Prints a table (mutants, killed,
reviewed equivalents, survivors, score), then every survivor's diff; exits 1 when a module
scores below 95 % (equivalents excluded) or mutmut could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from tests.mutation.score import (
    THRESHOLD,
    Equivalent,
    ModuleScore,
    Mutant,
    is_killed,
    load_equivalents,
    read_exit_codes,
    score_module,
    status_of,
    table,
)

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MODULES = HERE / "modules.toml"
EQUIVALENTS = HERE / "equivalent.toml"
SCRATCH = REPO / "var" / "mutate"
# What the tests read besides gateway/ and tests/ (mutmut copies those two itself).
SHARED = ("gateway", "tests", "tag_rules", "static")


def load_modules(path: Path = MODULES) -> dict[str, list[str]]:
    """Module path → the test files that cover it, as listed in modules.toml."""
    modules = tomllib.loads(path.read_text("utf-8"))["modules"]
    for module, tests in modules.items():
        if not (REPO / module).is_file():
            raise SystemExit(f"{path}: modules: {module!r} is not a file")
        missing = [t for t in tests if not (REPO / t).exists()]
        if not tests or missing:
            raise SystemExit(f"{path}: modules: {module!r}: no such test file {missing or tests}")
    return {str(k): [str(t) for t in v] for k, v in modules.items()}


def mutmut_settings(module: str, tests: list[str]) -> str:
    """The [tool.mutmut] table for one module: only it is mutated, only its tests run."""

    def array(items: list[str]) -> str:
        return "[" + ", ".join(f'"{item}"' for item in items) + "]"

    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["gateway"]\n'
        f"only_mutate = {array([module])}\n"
        'also_copy = ["tag_rules", "static"]\n'
        f"pytest_add_cli_args_test_selection = {array(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]\n'
        "use_git_change_detection = false\n"
    )


def prepare(module: str, tests: list[str]) -> Path:
    """A clean scratch folder for `module`: links to the sources, its own pyproject.toml."""
    folder = SCRATCH / module.removesuffix(".py").replace("/", ".")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in SHARED:
        if (REPO / name).exists():
            (folder / name).symlink_to(REPO / name)
    pyproject = (REPO / "pyproject.toml").read_text("utf-8")
    (folder / "pyproject.toml").write_text(pyproject + mutmut_settings(module, tests), "utf-8")
    return folder


def mutmut(folder: Path, *args: str, log: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mutmut", *args]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with log.open("w") as out:
        return subprocess.run(command, cwd=folder, env=env, stdout=out, stderr=out, text=True)


def run_module(module: str, tests: list[str], jobs: int) -> list[Mutant] | None:
    """mutmut's verdict on every mutant of `module` (diffs for those not killed), or None."""
    folder = prepare(module, tests)
    log = folder / "mutmut.log"
    done = mutmut(folder, "run", "--max-children", str(jobs), log=log)
    meta = folder / "mutants" / f"{module}.meta"
    if done.returncode != 0 or not meta.exists():
        tail = log.read_text("utf-8", errors="replace")[-3000:]
        print(f"mutmut failed on {module} (exit {done.returncode}); end of {log}:\n{tail}")
        return None
    statuses = {name: status_of(code) for name, code in sorted(read_exit_codes(meta).items())}
    diffs = read_diffs(folder, module, [n for n, s in statuses.items() if not is_killed(s)])
    return [Mutant(name, status, diffs.get(name, "")) for name, status in statuses.items()]


# mutmut's own diff of each mutant (what `mutmut show` prints), all in one process.
_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
module, names = json.load(sys.stdin)
json.dump({name: get_diff_for_mutant(name, path=module) for name in names}, sys.stdout)
"""


def read_diffs(folder: Path, module: str, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    done = subprocess.run(
        [sys.executable, "-c", _DIFFS],
        cwd=folder,
        input=json.dumps([module, names]),
        capture_output=True,
        text=True,
        check=True,
    )
    diffs: dict[str, str] = json.loads(done.stdout)
    return diffs


def cpu_seconds() -> float:
    """CPU time of every finished child process: what a run costs whatever else the machine
    is doing (on an idle machine, about the wall time times the number of jobs)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def report_survivors(score: ModuleScore) -> None:
    for mutant in score.survivors:
        print(f"\n{mutant.status}: {mutant.name} ({mutant.function})")
        print(mutant.diff)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths from modules.toml (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    args = parser.parse_args(argv)
    modules = load_modules()
    unknown = [m for m in args.modules if m not in modules]
    if unknown:
        print(f"not in {MODULES.relative_to(REPO)}: {', '.join(unknown)}")
        return 2
    selected = args.modules or list(modules)
    equivalents = load_equivalents(EQUIVALENTS)

    started, cpu_started = time.monotonic(), cpu_seconds()
    scores: list[ModuleScore] = []
    used: set[Equivalent] = set()
    failed = []
    for module in selected:
        began, cpu_began = time.monotonic(), cpu_seconds()
        mutants = run_module(module, modules[module], args.jobs)
        if mutants is None:
            failed.append(module)
            continue
        score, matched = score_module(module, mutants, equivalents)
        scores.append(score)
        used |= matched
        wall, cpu = time.monotonic() - began, cpu_seconds() - cpu_began
        print(f"{module}: {score.score:.1f} % in {wall:.0f} s ({cpu:.0f} CPU s)", flush=True)
        report_survivors(score)

    wall, cpu = time.monotonic() - started, cpu_seconds() - cpu_started
    print(f"\n{table(scores)}\n\n{len(selected)} module(s) in {wall:.0f} s, {cpu:.0f} CPU s")
    stale = [e for e in equivalents if e.module in selected and e not in used]
    for e in stale:
        print(f"stale in equivalent.toml, no survivor matches: {e.module} {e.function}: {e.added}")
    below = [s.module for s in scores if not s.passes()]
    if below or failed:
        print(f"below {THRESHOLD:.0f} % or not run: {', '.join(below + failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
