"""What every test run keeps to itself, in `tests/` and `e2e/` alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def own_state_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """CLI commands remember data directories in the user's state folder (gateway/data_dir.py):
    a test run uses its own, so that neither the tester's gateways nor another checkout's runs
    change what a command under test does."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        yield
