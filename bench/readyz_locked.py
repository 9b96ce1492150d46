"""`/readyz` on SQLite while another process holds the write lock and a POST /consent waits.

    .venv/bin/python -m bench.readyz_locked

Prints the readiness answer (status, reason) and how long it took. A readiness probe must say
"not ready" quickly when the database will not take a write, not queue behind the waiting write
and then say "ready".
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

import httpx

from gateway.app import create_app
from gateway.settings import from_keys

SITE = "https://www.example.com"


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="cg-bench-readyz-"))
    settings = from_keys(
        secret_keys=("bench-secret-key-0123456789abcdefghijklmnopq",),
        store=f"sqlite:///{folder}/gateway.sqlite3",
        data_dir=folder / "var",
        allowed_origins=(SITE,),
        spool_replay_seconds=60,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            print("unlocked:", (await http.get("/readyz")).json()["status"])
            holder = sqlite3.connect(folder / "gateway.sqlite3", isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # another process, mid-write
            waiting = asyncio.ensure_future(
                http.post("/consent", json={"action": "accept_all"}, headers={"Origin": SITE})
            )
            await asyncio.sleep(0.2)  # the choice is now queued behind the lock
            began = time.monotonic()
            answer = await http.get("/readyz")
            took = time.monotonic() - began
            holder.execute("ROLLBACK")
            holder.close()
            await waiting
    body = answer.json()
    print(
        f"locked: /readyz {answer.status_code} {body['status']}"
        f" reason={body.get('reason')!r} in {took:.2f} s"
    )


if __name__ == "__main__":
    asyncio.run(main())
