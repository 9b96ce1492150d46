from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from gateway.signing import development_keys, generate_secret


def test_development_secret_is_generated_once_with_mode_0600(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        first = development_keys(tmp_path / "var")
    secret_file = tmp_path / "var" / "secret.key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert "generated a development secret key" in caplog.text
    assert first[0] not in caplog.text  # the secret itself is never logged
    caplog.clear()
    assert development_keys(tmp_path / "var") == first
    assert caplog.text == ""


def test_generated_secrets_are_long_and_distinct() -> None:
    secrets = {generate_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(s) >= 43 for s in secrets)
