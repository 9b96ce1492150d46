"""Where a process spends its time: py-spy samples it while the load runs, and the summary
gives the functions with the most *self* time (the frame on top of the stack) and the share
of each layer (server, framework, gateway, prometheus, stdlib...).

py-spy (PyPI) attaches to a running pid; it needs ptrace rights (root, or
`kernel.yama.ptrace_scope=0`). Without it the profile is skipped with a message.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
LAYERS = (  # first match wins: the path fragment that names a layer
    ("prometheus", "prometheus_client/"),
    ("starlette", "starlette/"),
    ("uvicorn+httptools", "uvicorn/"),
    ("uvicorn+httptools", "httptools/"),
    ("granian", "granian/"),
    ("redis client", "redis/"),
    ("itsdangerous", "itsdangerous/"),
    ("user agents", "ua_parser/"),
    ("user agents", "user_agents/"),
    ("gateway", "gateway/"),
    ("asyncio", "asyncio/"),
    ("uvloop", "uvloop/"),
)


@dataclass(frozen=True)
class Profile:
    samples: int
    top: list[tuple[str, float]]  # "function (file)", share of samples with it on top
    layers: list[tuple[str, float]]

    def summary(self, functions: int = 6) -> str:
        if not self.samples:
            return "no samples"
        top = "; ".join(f"{name} {share:.0%}" for name, share in self.top[:functions])
        layers = ", ".join(f"{name} {share:.0%}" for name, share in self.layers if share >= 0.01)
        return f"layers: {layers} — top self: {top}"


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


def start(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes] | None:
    """Start sampling `pid` (and its children) for `seconds`; None when py-spy is missing."""
    binary = py_spy()
    if binary is None:
        return None
    return subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            "200",
            "--format",
            "raw",
            "--function",  # aggregate by function, not by line
            "--nonblocking",  # do not pause the process to sample it
            "--subprocesses",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(process: subprocess.Popen[bytes] | None, output: Path) -> Profile | str:
    """The profile written by `start`, or why there is none."""
    if process is None:
        return "py-spy not installed (pip install py-spy)"
    _, error = process.communicate(timeout=120)
    if process.returncode != 0 or not output.exists():
        return "py-spy failed: " + error.decode(errors="replace").strip().splitlines()[-1:][0]
    return summarise(output.read_text(errors="replace"))  # frames may hold any bytes


def summarise(raw: str) -> Profile:
    """Self time per function and per layer from py-spy's raw (collapsed stack) output."""
    functions: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        top = stack.rsplit(";", 1)[-1]
        if top.startswith("process "):
            continue  # a sample of a process with no Python frame (--subprocesses)
        match = _FRAME.match(top)
        name, file = (match["function"], match["file"]) if match else (top, "")
        short = "/".join(file.split("/")[-2:])
        functions[f"{name} ({short})"] += int(count)
        layers[_layer(file)] += int(count)
        total += int(count)
    share = (lambda n: n / total) if total else (lambda n: 0.0)
    return Profile(
        total,
        [(name, share(n)) for name, n in functions.most_common(12)],
        [(name, share(n)) for name, n in layers.most_common()],
    )


def _layer(file: str) -> str:
    for name, fragment in LAYERS:
        if fragment in file:
            return name
    return "other (stdlib, C)"
