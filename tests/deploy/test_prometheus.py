"""The alert rules load in Prometheus (`promtool check rules`) and fire when they should
(`promtool test rules`, the cases in deploy/prometheus/alerts_test.yml)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

RULES = REPO / "deploy" / "prometheus"


def promtool(*args: str, cwd: Path = RULES) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: run `bash .ci/system-deps` (Debian package prometheus)"
    return subprocess.run(
        [tool, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_rules_load() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 10 rules found" in checked.stdout


def test_the_alerts_fire_when_they_should_and_only_then() -> None:
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


@pytest.mark.parametrize(
    ("threshold", "changed"),
    [
        ("> 0.8", "> 0.9"),  # store memory
        ("> 900", "> 1800"),  # oldest hit's age
        ("> 0.01", "> 0.1"),  # 5xx share
    ],
)
def test_the_unit_tests_pin_the_thresholds(tmp_path: Path, threshold: str, changed: str) -> None:
    rules = (RULES / "alerts.yml").read_text()
    assert rules.count(threshold) == 1
    (tmp_path / "alerts.yml").write_text(rules.replace(threshold, changed))
    shutil.copy(RULES / "alerts_test.yml", tmp_path)
    tested = promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)
    assert tested.returncode != 0
    assert "FAILED" in tested.stdout + tested.stderr


def test_the_example_configuration_loads_with_the_rules(tmp_path: Path) -> None:
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(RULES / name, tmp_path)
    (tmp_path / "consent-gateway.token").write_text("a-metrics-token\n")
    checked = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 10 rules found" in checked.stdout
    assert "alerts.yml" in checked.stdout


def test_the_alerts_select_the_job_the_configuration_scrapes() -> None:
    config = yaml.safe_load((RULES / "prometheus.yml").read_text())
    (job,) = [scrape["job_name"] for scrape in config["scrape_configs"]]
    rules = yaml.safe_load((RULES / "alerts.yml").read_text())["groups"][0]["rules"]
    assert all(f'job="{job}"' in rule["expr"] for rule in rules)
