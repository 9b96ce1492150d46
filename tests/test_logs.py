"""Logs for people and machines: a short line on a terminal, JSON lines elsewhere, as asked.

The terminal case runs `consent-gateway forward` with its stderr on a real pseudo-terminal
(`os.openpty`); the other case with its stderr on a pipe, as a collector reads it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.logs import JSONFormatter, TextFormatter, formatter_for, request_id
from gateway.settings import load_settings
from tests.test_cli import CLI, environment

TEXT_LINE = re.compile(r"^\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL) +(.+)  (\S+=\S+.*)$")
STARTED = "delivering hits for"  # what `forward` logs once it runs


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _record(message: str, *args: object, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("gateway.appender", level, __file__, 1, message, args, None)


@pytest.mark.parametrize(
    ("log_format", "stream", "expected"),
    [
        ("auto", _Terminal(), TextFormatter),
        ("auto", io.StringIO(), JSONFormatter),
        ("json", _Terminal(), JSONFormatter),
        ("text", io.StringIO(), TextFormatter),
    ],
)
def test_the_format_follows_the_setting_then_the_stream(
    log_format: str, stream: io.StringIO, expected: type
) -> None:
    assert type(formatter_for(log_format, stream)) is expected  # type: ignore[arg-type]


def test_a_closed_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    stream.close()
    assert isinstance(formatter_for("auto", stream), JSONFormatter)


def test_the_text_line_says_time_level_message_and_facts() -> None:
    record = _record("store unavailable: %d hit(s) wait in memory", 3)
    record.request_id = "r-123"
    line = TextFormatter().format(record)
    found = TEXT_LINE.match(line)
    assert found is not None, line
    assert found.group(1) == "WARNING"
    assert found.group(2) == "store unavailable: 3 hit(s) wait in memory"
    assert found.group(3) == "logger=gateway.appender request_id=r-123"


def test_the_text_line_cannot_be_split_by_a_quoted_value() -> None:
    """A value a message quotes (a vendor's answer, a header) cannot forge a second record."""
    record = _record("vendor said %r", "ok\n12:00:00 ERROR forged\r\x1b[2J")
    line = TextFormatter().format(record)
    assert not any(control in line for control in ("\n", "\r", "\x1b"))
    assert "forged" in line  # still there, escaped, for whoever reads it


def test_a_traceback_follows_the_text_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = _record("appending hits failed")
        record.exc_info = sys.exc_info()
    first, *rest = TextFormatter().format(record).splitlines()
    assert TEXT_LINE.match(first)
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "RuntimeError: boom"


def test_the_json_line_holds_the_same_facts() -> None:
    record = _record("store unavailable: %d hit(s) wait in memory", 3)
    record.request_id = "r-123"
    entry = json.loads(JSONFormatter().format(record))
    assert entry["level"] == "warning"
    assert entry["logger"] == "gateway.appender"
    assert entry["message"] == "store unavailable: 3 hit(s) wait in memory"
    assert entry["request_id"] == "r-123"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])


def test_the_request_id_comes_from_the_request_being_answered() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    from gateway.logs import RequestIdFilter

    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("gateway.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id.set("req-42")
    try:
        logger.warning("answered")
    finally:
        request_id.reset(token)
        logger.removeHandler(handler)
        logger.propagate = True
    assert stream.getvalue().rstrip().endswith("logger=gateway.test_logs request_id=req-42")


def test_an_unknown_log_format_stops_start_up_naming_the_key() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"GATEWAY_LOG_FORMAT": "xml"})
    assert error.value.key == "log_format"
    assert "json" in str(error.value)
    assert "\n" not in str(error.value)


def _first_lines_of_forward(tmp_path: Path, *, terminal: bool, **extra: str) -> list[str]:
    """Run `consent-gateway forward` until it says it runs; its stderr lines until then."""
    env = environment(tmp_path, GATEWAY_LOG_LEVEL="info", **extra)
    if terminal:
        reader, writer = os.openpty()
        process = subprocess.Popen([*CLI, "forward"], env=env, stdout=writer, stderr=writer)
        os.close(writer)
    else:
        process = subprocess.Popen(
            [*CLI, "forward"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert process.stderr is not None
        reader = process.stderr.fileno()
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while STARTED.encode() not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([reader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(reader, 65536)
                except OSError:  # the terminal closed: the process ended
                    break
                if not chunk:
                    break
                seen += chunk
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        if terminal:
            os.close(reader)
        elif process.stderr is not None:
            process.stderr.close()
    text = seen.decode("utf-8", "replace").replace("\r\n", "\n")
    assert STARTED in text, text
    return [line for line in text.splitlines() if line.strip()]


def test_on_a_terminal_forward_logs_short_lines(tmp_path: Path) -> None:
    lines = _first_lines_of_forward(tmp_path, terminal=True)
    started = next(line for line in lines if STARTED in line)
    found = TEXT_LINE.match(started)
    assert found is not None, lines
    assert found.group(1) == "INFO"
    assert "logger=gateway.delivery" in found.group(3)
    assert not started.startswith("{")


def test_on_a_pipe_forward_logs_json_lines(tmp_path: Path) -> None:
    lines = _first_lines_of_forward(tmp_path, terminal=False)
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    started = next(entry for entry in entries if STARTED in entry["message"])
    assert (started["level"], started["logger"]) == ("info", "gateway.delivery")


def test_json_is_kept_on_a_terminal_when_asked(tmp_path: Path) -> None:
    lines = _first_lines_of_forward(tmp_path, terminal=True, GATEWAY_LOG_FORMAT="json")
    started = next(line for line in lines if STARTED in line)
    assert json.loads(started)["logger"] == "gateway.delivery"
