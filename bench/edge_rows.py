"""Only the end-to-end rows of the delivery section, for measuring delivery on its own:

    .venv/bin/python -m bench.edge_rows [WORKERS=1,2] [DELAYS_MS=0,50] [SECONDS=5]

`serve --workers N` with its in-process worker, wrk on `/t/matomo`, the stand-in Matomo
counting each hit by id (`bench.delivery.edge_row`); prints delivered hits/s, lost and
duplicated per row. Does not touch RESULTS.md.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench import delivery
from bench.setup import consent_cookie
from tests.servers import RedisServer


def main(arguments: list[str]) -> int:
    workers = [int(w) for w in (arguments[0] if arguments else "1,2").split(",")]
    delays = [int(d) for d in (arguments[1] if len(arguments) > 1 else "0,50").split(",")]
    seconds = float(arguments[2]) if len(arguments) > 2 else 5.0
    work = Path(tempfile.mkdtemp(prefix="cg-edge-rows-"))
    aof = ("--appendonly", "yes", "--appendfsync", "everysec", "--save", "")
    redis = RedisServer(work / "redis", extra=aof).start()
    try:
        cookie = consent_cookie("analytics")
        for delay in delays:
            for count in workers:
                row = delivery.edge_row(redis, work, delay, cookie, seconds, 50, count)
                print(
                    f"serve --workers {count}, {delay} ms upstream: answered "
                    f"{row.answered or 0:.0f} req/s, delivered {row.delivered:.0f} hits/s, "
                    f"{row.sent} hits, lost {row.lost}, duplicated {row.counted.duplicated}",
                    flush=True,
                )
    finally:
        redis.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
