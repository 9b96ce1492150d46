"""What the bench scenarios send and how it reads the processes: agents, cookies, RSS."""

from __future__ import annotations

import os
import platform
import random
import time
from pathlib import Path

from gateway.consent.cookie import ConsentCodec
from gateway.consent.model import Consent

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-0123456789abcdefghijklmnopq"
ADMIN_TOKEN = "bench-admin-token-0123456789abcdefghijkl"


def sample_agents(count: int = 2000, seed: int = 7) -> list[str]:
    """User agents drawn by traffic weight from the real browser corpus."""
    rows = (REPO / "tests/data/browsers-intoli.tsv").read_text().splitlines()
    header = rows[0].split("\t")
    agent, weight = header.index("user_agent"), header.index("weight")
    table = [line.split("\t") for line in rows[1:] if line]
    return random.Random(seed).choices(
        [row[agent] for row in table], weights=[float(row[weight]) for row in table], k=count
    )


def consent_cookie(*granted: str) -> str:
    codec = ConsentCodec((SECRET,), 180)
    consent = Consent(
        "benchvisitor0000000001", 1, frozenset({"necessary", *granted}), int(time.time())
    )
    return "cg_consent=" + codec.encode(consent)


def _status_mib(pid: int, field: str) -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return float("nan")
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib(pid: int) -> float:
    return _status_mib(pid, "VmHWM")


def current_rss_mib(pid: int) -> float:
    return _status_mib(pid, "VmRSS")


def process_tree(pid: int) -> list[int]:
    """`pid` and its children (a server's workers)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(p) for p in path.read_text().split())] if path.exists() else [pid]


def tree_rss_mib(pid: int) -> tuple[float, float]:
    """(RSS now, peak RSS) of the largest process of `pid`'s tree, in MiB."""
    pids = process_tree(pid)
    return max(current_rss_mib(p) for p in pids), max(peak_rss_mib(p) for p in pids)


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def redis_receipts(port: int) -> int:
    """Receipts durably stored: the sum of the per-day receipt sets."""
    import redis as redis_client

    client = redis_client.Redis(port=port, decode_responses=True)
    try:
        return sum(int(client.zcard(key)) for key in client.scan_iter("cg:receipts:*"))
    finally:
        client.close()
