"""Load generators: wrk (with a generated Lua script rotating real user agents) or, when wrk is
not installed, a Python async generator on httpx."""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Load:
    """What one scenario sends, over and over."""

    base: str
    method: str
    path: str
    cookie: str
    body: str
    agents: list[str]
    connections: int
    headers: tuple[tuple[str, str], ...] = ()  # sent on every request, besides the agent
    paths: tuple[str, ...] = ()  # when given, requests rotate over these instead of `path`


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers, plus socket errors (connect, read, write, timeout)


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def run_wrk(load: Load, seconds: float, work: Path) -> Result:
    script = work / "scenario.lua"
    headers = [f'["Cookie"] = {_lua_string(load.cookie)},' if load.cookie else ""]
    if load.body:
        headers.append('["Content-Type"] = "application/json",')
    # "[ [==[" with spaces: "[[" would open a Lua long string.
    headers += [f"[ {_lua_string(name)} ] = {_lua_string(value)}," for name, value in load.headers]
    script.write_text(
        "local agents = {" + ",".join(_lua_string(a) for a in load.agents) + "}\n"
        "local paths = {" + ",".join(_lua_string(p) for p in load.paths or (load.path,)) + "}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i + 1\n"
        "  local headers = {" + " ".join(headers) + ' ["User-Agent"] = agents[(i % #agents) + 1]}\n'
        f"  return wrk.format({_lua_string(load.method)}, paths[(i % #paths) + 1], headers, "
        f"{_lua_string(load.body) if load.body else 'nil'})\n"
        "end\n"
    )
    completed = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{load.connections}",
            f"-d{seconds:.0f}s",
            "--latency",
            "-s",
            str(script),
            load.base,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    if "lua" in completed.stderr:  # wrk goes on with GET / when its script fails
        raise RuntimeError(f"wrk script error: {completed.stderr.strip()}")
    output = completed.stdout
    return Result(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=_wrk_latency(output, "50%"),
        p99_ms=_wrk_latency(output, "99%"),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        errors=_wrk_errors(output),
    )


def _wrk_errors(output: str) -> int:
    status = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return (int(status.group(1)) if status else 0) + (
        sum(int(n) for n in sockets.groups()) if sockets else 0
    )


def _wrk_latency(output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_python_load(load: Load, seconds: float, work: Path) -> Result:
    return asyncio.run(_python_load(load, seconds))


async def _python_load(load: Load, seconds: float) -> Result:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(
        max_connections=load.connections, max_keepalive_connections=load.connections
    )

    async def loop(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal errors
        n = offset
        while time.perf_counter() < deadline:
            headers = {"User-Agent": load.agents[n % len(load.agents)]}
            if load.cookie:
                headers["Cookie"] = load.cookie
            if load.body:
                headers["Content-Type"] = "application/json"
            headers.update(load.headers)
            started = time.perf_counter()
            response = await client.request(
                load.method,
                load.paths[n % len(load.paths)] if load.paths else load.path,
                headers=headers,
                content=load.body or None,
            )
            latencies.append(time.perf_counter() - started)
            errors += response.status_code >= 400
            n += load.connections

    async with httpx.AsyncClient(
        base_url=load.base, limits=limits, follow_redirects=False
    ) as client:
        began = time.perf_counter()
        await asyncio.gather(*(loop(client, i) for i in range(load.connections)))
        elapsed = time.perf_counter() - began
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Result(
        len(latencies) / elapsed, quantiles[49] * 1000, quantiles[98] * 1000, len(latencies), errors
    )
