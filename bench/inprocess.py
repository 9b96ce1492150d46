"""`python -m bench.inprocess [--then TREE] [--runs N]`: CPU µs per request of the hot routes,
in-process — the gateway's own work, without the server, the sockets or the load generator.

The app is called directly with a built ASGI scope, in batches of 500 requests, alternating with
batches of the bare Starlette baseline (`bench.references`); each figure is the best batch
(`time.process_time`), so a busy machine slows a batch but not the best one. With `--then TREE`
(a set-up checkout of an earlier commit, e.g. the worktree `bench.versions` makes) the same
measurement runs in that tree's own virtualenv too, the two alternating `--runs` times (3): the
served A/B (`bench.versions`) is the figure that counts, this one tells apart differences of
under a microsecond that the served runs cannot resolve.

The file runs alone as well (`python PATH/inprocess.py`, from the tree to measure): it imports
the gateway of the working directory, and speaks the earlier app API (`create_app(...).state`,
`start()`/`stop()`) when the tree is older.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

BATCH = 500
ROUNDS = 30
AGENT = (
    b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    b"Chrome/120.0.0.0 Safari/537.36"
)
GA4 = b"v=2&tid=G-BENCH&cid=555.666&sid=1700000000&dl=https%3A%2F%2Fwww.example.com%2F&en=page_view"


def scope(
    path: str, query: bytes = b"", headers: tuple[tuple[bytes, bytes], ...] = ()
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", AGENT),
            (b"accept", b"*/*"),
            *headers,
        ],
        "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def cases(cookie: bytes) -> dict[str, dict[str, Any]]:
    consented = ((b"cookie", cookie),)
    return {
        "/healthz": scope("/healthz"),
        "/t blocked": scope("/t/meta_pixel", b"id=1&ev=PageView"),
        "/t anonymous forward": scope("/t/ga4", GA4),
        "/t consented forward": scope("/t/ga4", GA4, consented),
        "/t consented redirect": scope("/t/meta_pixel", b"id=1&ev=PageView", consented),
        "GET /consent": scope("/consent", headers=consented),
        "/consent.js (gzip)": scope(
            "/consent.js", headers=((b"accept-encoding", b"gzip, deflate, br"),)
        ),
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


def _gateway_app(data: Path) -> tuple[Any, Any]:
    """This tree's app and gateway, whichever app API the tree has."""
    import gateway.settings as settings_module
    from bench.setup import SECRET

    values: dict[str, Any] = {
        "secret_keys": (SECRET,),
        "rules": Path("tag_rules"),
        "vendors": ("meta_pixel", "ga4"),
        "data_dir": data,
        "store": f"sqlite:///{data}/g.db",
    }
    make = getattr(settings_module, "from_keys", None) or settings_module.Settings
    settings = make(**values)
    try:
        from gateway.app import app_for  # type: ignore[attr-defined,unused-ignore]
        from gateway.runtime import Gateway

        built = Gateway.build(settings)
        return app_for(built), built
    except ImportError:  # before the app kept no handle to its gateway
        from gateway.app import create_app

        app = create_app(settings)
        return app, app.state.gateway


@contextlib.asynccontextmanager
async def _running(built: Any) -> AsyncIterator[None]:
    if hasattr(built, "running"):
        async with built.running():
            yield
        return
    await built.start()  # the earlier lifecycle
    try:
        yield
    finally:
        await built.stop()


async def _batch(app: Any, request: dict[str, Any]) -> float:
    started = time.process_time()
    for _ in range(BATCH):
        await app(dict(request), _receive, _send)
    return (time.process_time() - started) / BATCH * 1e6


async def measure_here() -> dict[str, float]:
    """Best µs per request of each case and of the bare baseline, in this process."""
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("XDG_STATE_HOME", tempfile.mkdtemp())
    from bench.references import PATH, bare_starlette
    from bench.setup import consent_cookie

    app, built = _gateway_app(Path(tempfile.mkdtemp()))
    requests = cases(consent_cookie("analytics", "marketing").encode())
    best = {name: float("inf") for name in ["bare", *requests]}
    bare = scope(PATH)
    async with _running(built):
        for _ in range(ROUNDS):
            best["bare"] = min(best["bare"], await _batch(bare_starlette, bare))
            for name, request in requests.items():
                best[name] = min(best[name], await _batch(app, request))
    return best


def _run_in(tree: Path) -> dict[str, float]:
    completed = subprocess.run(
        [str(tree / ".venv/bin/python"), __file__, "--one"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(completed.stdout.splitlines()[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--then", type=Path, help="a set-up checkout of an earlier commit")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one:
        print(json.dumps(asyncio.run(measure_here())))
        return 0
    here = Path(__file__).resolve().parents[1]
    trees = {"now": here, **({"then": arguments.then.resolve()} if arguments.then else {})}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(arguments.runs):
        for name, tree in trees.items():
            runs[name].append(_run_in(tree))
    print(f"{'route':<24}" + "".join(f"{name:>22}" for name in trees))
    for case in runs["now"][0]:
        cells = []
        for name in trees:
            values = [run[case] for run in runs[name]]
            ratios = [run[case] / run["bare"] for run in runs[name]]
            cells.append(f"{min(values):6.2f}–{max(values):5.2f} µs {min(ratios):4.2f}×")
        print(f"{case:<24}" + "".join(f"{cell:>22}" for cell in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
