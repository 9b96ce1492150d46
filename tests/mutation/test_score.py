"""How `make mutate` scores a module, and that its two lists stay readable and true."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.mutation.run import EQUIVALENTS, load_modules, mutmut_settings
from tests.mutation.score import (
    Equivalent,
    ModuleScore,
    Mutant,
    change_of,
    function_of,
    load_equivalents,
    read_exit_codes,
    score_module,
    status_of,
    table,
)

DIFF = """--- gateway/delivery/retry.py
+++ gateway/delivery/retry.py
@@ -1,4 +1,4 @@
 def classify(status: int) -> Verdict:
-    if status == 429 or status >= 500:
+    if status == 429 or status > 500:
         return "retry"
"""


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (1, "killed"),
        (3, "killed"),
        (37, "caught by type check"),
        (36, "timeout"),
        (-24, "timeout"),
        (0, "survived"),
        (33, "no tests"),
        (None, "not checked"),
        (-11, "suspicious"),
    ],
)
def test_status_of_an_exit_code(code: int | None, status: str) -> None:
    assert status_of(code) == status


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("gateway.decision.x_decide__mutmut_88", "decide"),
        ("gateway.delivery.retry.xǁCircuitBreakerǁallows__mutmut_3", "CircuitBreaker.allows"),
        ("gateway.tracking.hits.x__ip_for_vendor__mutmut_12", "_ip_for_vendor"),
    ],
)
def test_function_of_a_mutant(name: str, function: str) -> None:
    assert function_of(name) == function


def test_change_of_a_diff() -> None:
    assert change_of(DIFF) == (
        "if status == 429 or status >= 500:",
        "if status == 429 or status > 500:",
    )


def mutant(number: int, status: str, diff: str = "") -> Mutant:
    return Mutant(f"gateway.delivery.retry.x_classify__mutmut_{number}", status, diff)


EQUIVALENT = Equivalent(
    "gateway/delivery/retry.py",
    "classify",
    "if status == 429 or status >= 500:",
    "if status == 429 or status > 500:",
    "a reason",
)


def test_a_score_leaves_out_reviewed_equivalents_only() -> None:
    mutants = [
        mutant(1, "killed"),
        mutant(2, "timeout"),
        mutant(3, "survived", DIFF),  # matches the reviewed entry
        mutant(4, "survived", DIFF.replace("> 500", "!= 500")),  # a real survivor
        mutant(5, "no tests", DIFF),  # not run is never excused
    ]
    elsewhere = replace(EQUIVALENT, module="gateway/decision.py")  # another module's entry
    score, used = score_module("gateway/delivery/retry.py", mutants, [EQUIVALENT, elsewhere])
    assert (score.mutants, score.killed, score.equivalents) == (5, 2, 1)
    assert [m.name[-1] for m in score.survivors] == ["4", "5"]
    assert score.score == 50.0
    assert used == {EQUIVALENT}


@pytest.mark.parametrize(
    ("killed", "equivalents", "passes"),
    [(19, 0, True), (18, 0, False), (18, 1, False), (18, 2, True), (0, 20, True)],
)
def test_the_threshold_is_95_percent(killed: int, equivalents: int, passes: bool) -> None:
    score = ModuleScore("m.py", 20, killed, equivalents)
    assert score.passes() is passes


def test_a_module_without_mutants_does_not_pass() -> None:
    assert not ModuleScore("m.py", 0, 0, 0).passes()


def test_the_table() -> None:
    rows = table([ModuleScore("a.py", 20, 19, 0), ModuleScore("b.py", 10, 8, 0)]).splitlines()
    assert rows[2] == "| `a.py` | 20 | 19 | 0 | 0 | 95.0 % |"
    assert rows[3] == "| `b.py` | 10 | 8 | 0 | 0 | 80.0 % (below 95 %) |"


def test_exit_codes_from_mutmuts_meta_file(tmp_path: Path) -> None:
    meta = tmp_path / "policy.py.meta"
    meta.write_text(json.dumps({"exit_code_by_key": {"a__mutmut_1": 1, "a__mutmut_2": None}}))
    assert read_exit_codes(meta) == {"a__mutmut_1": 1, "a__mutmut_2": None}


def test_an_equivalent_needs_every_key_and_a_reason(tmp_path: Path) -> None:
    listing = tmp_path / "equivalent.toml"
    listing.write_text(
        '[[equivalent]]\nmodule = "m.py"\nfunction = "f"\nremoved = "a"\nadded = "b"\n'
    )
    with pytest.raises(ValueError, match="equivalent #1"):
        load_equivalents(listing)
    listing.write_text(listing.read_text() + 'reason = "  "\n')
    with pytest.raises(ValueError, match="equivalent #1"):
        load_equivalents(listing)


def test_the_reviewed_lists_read_and_name_real_files() -> None:
    modules = load_modules()
    assert {
        "gateway/decision.py",
        "gateway/consent/cookie.py",
        "gateway/signing.py",
        "gateway/tracking/hits.py",
        "gateway/delivery/consent_check.py",
    } <= set(modules)
    for entry in load_equivalents(EQUIVALENTS):
        assert entry.module in modules, entry


def test_mutmut_settings_mutate_one_module_with_its_tests() -> None:
    settings = mutmut_settings("gateway/signing.py", ["tests/test_signing.py"])
    assert 'only_mutate = ["gateway/signing.py"]' in settings
    assert 'pytest_add_cli_args_test_selection = ["tests/test_signing.py"]' in settings
