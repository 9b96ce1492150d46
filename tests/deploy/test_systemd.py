"""The systemd units parse, name real directives and run an executable (`systemd-analyze
verify`), with the CLI at the path they expect swapped for this checkout's. That they start
the gateway is tests/deploy/test_nginx.py's part."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.recipes import DEPLOY, INSTALLED

UNITS = sorted(path.name for path in (DEPLOY / "systemd").glob("*.service"))


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze is missing: run `bash .ci/system-deps` (Debian package systemd)"
    return subprocess.run(
        [tool, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )


def installed_here(name: str, directory: Path, text: str | None = None) -> Path:
    cli = Path(sys.executable).with_name("consent-gateway")
    unit = directory / name
    unit.write_text((text or (DEPLOY / "systemd" / name).read_text()).replace(INSTALLED, str(cli)))
    return unit


def test_there_is_a_unit_for_serve_and_one_for_forward() -> None:
    assert UNITS == ["consent-gateway-forward.service", "consent-gateway.service"]


@pytest.mark.parametrize("name", UNITS)
def test_the_unit_verifies(tmp_path: Path, name: str) -> None:
    checked = verify(installed_here(name, tmp_path))
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""


def test_verify_would_see_a_broken_unit(tmp_path: Path) -> None:
    text = (DEPLOY / "systemd" / "consent-gateway.service").read_text()
    broken = installed_here(
        "consent-gateway.service", tmp_path, text.replace("Restart=on-failure", "Restart=sometimes")
    )
    assert "Failed to parse service restart specifier" in verify(broken).stderr
