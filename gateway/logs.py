"""Logs for people and machines, on stderr: JSON lines for a collector, a short line for a person.

`GATEWAY_LOG_FORMAT` chooses: `json` (one object a line), `text`, or `auto` (the default):
text when stderr is a terminal, JSON lines when it is not (a pipe, a file, journald, docker).

    12:04:05 WARNING store unavailable: 3 hit(s) wait in memory  logger=gateway.appender
    {"time": "2026-12-07T12:04:05.120Z", "level": "warning", "logger": "gateway.appender", ...}

Both show the same facts: the time, the level, the message, the logger and the request id. A
message never carries personal data or secrets (the code logs counts, vendor ids and reasons,
never an address, cookie or key); the text format also escapes control characters, so a value
quoted in a message cannot forge a second line.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Literal, TextIO

LogFormat = Literal["auto", "json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("auto", "json", "text")

request_id: ContextVar[str] = ContextVar("request_id", default="")


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", "")
        if rid:
            entry["request_id"] = rid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """One line a record for a person: local time, level, message, then `key=value` facts.

    >>> record = logging.LogRecord("gateway.x", logging.INFO, "", 0, "a\\nb %d", (1,), None)
    >>> TextFormatter().format(record).split(" ", 1)[1]
    'INFO    a\\\\nb 1  logger=gateway.x'
    """

    def format(self, record: logging.LogRecord) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(record.created))
        facts = [f"logger={record.name}"]
        rid = getattr(record, "request_id", "")
        if rid:
            facts.append(f"request_id={rid}")
        line = f"{clock} {record.levelname:<7} {_one_line(record.getMessage())}  {' '.join(facts)}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)  # a traceback keeps its lines
        return line


def _one_line(message: str) -> str:
    """`message` with its control characters escaped (`\\n` stays visible, never a new line)."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was written in (formatting may come later)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def formatter_for(log_format: LogFormat, stream: TextIO) -> logging.Formatter:
    """The formatter `log_format` asks for; `auto`: text on a terminal, JSON lines elsewhere."""
    if log_format == "auto":
        log_format = "text" if _is_terminal(stream) else "json"
    return TextFormatter() if log_format == "text" else JSONFormatter()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def configure_logging(level: str = "info", log_format: LogFormat = "auto") -> None:
    """Send the gateway's logs (and its libraries') to stderr in `log_format`."""
    stream = sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for(log_format, stream))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
