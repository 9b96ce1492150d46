"""What every test run keeps to itself, in `tests/` and `e2e/` alike, and its watchdog."""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import TextIO

import pytest


@pytest.fixture(autouse=True, scope="session")
def own_state_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """CLI commands remember data directories in the user's state folder (gateway/data_dir.py):
    a test run uses its own, so that neither the tester's gateways nor another checkout's runs
    change what a command under test does."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        yield


# A test that hangs (an awaited future nobody resolves) would otherwise hold CI until its time
# limit and say nothing. Past `HUNG_AFTER_SECONDS` the test fails, and the stack of every pending
# asyncio task is written to the real stderr first: where each one waits is the diagnosis.
HUNG_AFTER_SECONDS = 240  # the slowest honest test (a live schemathesis run) takes about 90 s


class TestHung(Exception):
    """A test ran past `HUNG_AFTER_SECONDS`."""


def _dump_pending_tasks(out: TextIO) -> None:
    tasks = [o for o in gc.get_objects() if isinstance(o, asyncio.Task) and not o.done()]
    print(f"--- {len(tasks)} pending asyncio task(s) ---", file=out)
    for task in tasks:
        print(repr(task), file=out)
        task.print_stack(file=out)
    out.flush()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    def on_alarm(signum: int, frame: FrameType | None) -> None:
        _dump_pending_tasks(sys.__stderr__ or sys.stderr)
        raise TestHung(f"{item.nodeid} still running after {HUNG_AFTER_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(HUNG_AFTER_SECONDS)
    try:
        return (yield)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
