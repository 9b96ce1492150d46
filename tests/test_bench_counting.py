"""The bench's end-to-end bookkeeping (bench/): the stand-in vendor counts every hit by its id,
a row's lost hits leave out those still in flight, the peer is found or skipped with a reason,
and each target is rendered met, not met or not measured. Speed itself is never asserted here:
the bench is where it is measured."""

from __future__ import annotations

import random
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bench import peer, vendor
from bench.delivery import Counted, Row, peer_ratio
from bench.load import Result
from bench.report import Row as TableRow
from bench.report import Target, render_targets, row_target


@pytest.fixture
async def stand_in() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=vendor.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://matomo.test") as client:
        (await client.post("/reset")).raise_for_status()
        yield client


async def test_the_stand_in_counts_missing_and_duplicated_hits_by_id(
    stand_in: httpx.AsyncClient,
) -> None:
    upto = random.randint(5, 40)
    missing = set(random.sample(range(1, upto + 1), 2))
    twice = random.choice([n for n in range(1, upto + 1) if n not in missing])
    sent = [n for n in range(1, upto + 1) if n not in missing] + [twice, twice]
    random.shuffle(sent)
    for number in sent:
        answer = await stand_in.get(f"/matomo.php?idsite=1&rec=1&rand=e2w0-{number}")
        assert answer.status_code == 204
    await stand_in.get("/matomo.php?idsite=1&rand=other-1")  # another row's id

    stats = (await stand_in.get("/stats", params={"prefix": "e2w0-", "upto": upto})).json()

    assert stats["missing"] == 2
    assert stats["arrived"] == upto - 2
    assert stats["duplicated"] == 1
    assert stats["extra"] == 2
    assert stats["received"] == len(sent) + 1
    assert (await stand_in.get("/count")).text == str(len(sent) + 1)


async def test_a_reset_forgets_every_hit(stand_in: httpx.AsyncClient) -> None:
    await stand_in.get("/matomo.php?rand=p0-1")
    (await stand_in.post("/reset")).raise_for_status()
    stats = (await stand_in.get("/stats", params={"prefix": "p0-", "upto": 1})).json()
    assert stats == {
        "received": 0,
        "unique": 0,
        "missing": 1,
        "duplicated": 0,
        "extra": 0,
        "arrived": 0,
    }


def _row(kind: str, delivered: float, missing: int = 0, in_flight: int = 0, delay: int = 0) -> Row:
    counted = Counted(arrived=100 - missing, missing=missing, duplicated=0, extra=0)
    return Row(kind, 1.0, delivered, 100, counted, in_flight, kind=kind, delay_ms=delay)


def test_hits_in_flight_when_wrk_stopped_are_not_counted_lost() -> None:
    assert _row("edge", 1.0, missing=7, in_flight=50).lost == 0
    assert _row("edge", 1.0, missing=57, in_flight=50).lost == 7
    assert _row("edge", 1.0, missing=3, in_flight=0).lost == 3


def test_an_edge_row_is_compared_with_the_peer_against_the_same_upstream() -> None:
    fast_peer, slow_peer = _row("peer", 400.0), _row("peer", 100.0, delay=50)
    edge, slow_edge = _row("edge", 1000.0), _row("edge", 300.0, delay=50)
    rows = [edge, fast_peer, slow_edge, slow_peer]
    assert peer_ratio(rows, edge) == pytest.approx(2.5)
    assert peer_ratio(rows, slow_edge) == pytest.approx(3.0)
    assert peer_ratio(rows, fast_peer) is None
    assert peer_ratio([edge], edge) is None  # no peer measured


def test_a_tracker_proxy_checkout_is_named_by_its_commit(tmp_path: Path) -> None:
    source = tmp_path / "tracker-proxy"
    source.mkdir()
    assert "no proxy.php" in str(peer.checkout(str(source)))
    (source / "proxy.php").write_text("<?php\n")
    found = peer.checkout(str(source))
    assert isinstance(found, peer.Checkout)
    assert found.commit == "not a git checkout"
    git = ["git", "-C", str(source), "-c", "user.name=b", "-c", "user.email=b@example.com"]
    subprocess.run([*git, "init", "--quiet"], check=True)
    subprocess.run([*git, "add", "proxy.php"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "proxy"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    found = peer.checkout(str(source))
    assert isinstance(found, peer.Checkout)
    assert (found.path, found.commit) == (source, head)


def _table_row(name: str, rps: float, ratio: float, target: float, errors: int = 0) -> TableRow:
    result = Result(rps, 1.0, 2.0, int(rps * 10), errors)
    return TableRow(name, "gateway", result, ratio, target, (50.0, 50.0, 50.0))


def test_every_target_is_rendered_met_not_met_or_not_measured() -> None:
    rows = [
        _table_row("/t blocked", 9000, 1.04, 1.0),
        _table_row("/o", 6000, 0.71, 1.0),
        _table_row("/c", 9000, 1.2, 1.0, errors=3),  # fast, but with errors: not met
        TableRow(
            "POST /consent",
            "gateway",
            Result(2000, 1.0, 2.0, 20000, 0),
            0.2,
            None,
            (50.0, 50.0, 50.0),
            receipts_per_second=5210.0,
            receipts_target=5000.0,
        ),
    ]
    targets = [
        row_target("blocked", rows, "/t blocked", "gateway"),
        row_target("open", rows, "/o", "gateway"),
        row_target("click", rows, "/c", "gateway"),
        row_target("receipts", rows, "POST /consent", "gateway"),
        row_target("absent", rows, "/t blocked", "gateway ×2"),
        Target("peer", "≥ 2.0×", "not measured: php-fpm is not installed", None),
    ]
    assert [target.met for target in targets] == [True, False, False, True, None, None]
    assert targets[3].measured == "5,210 receipts/s"
    table = render_targets(targets)
    assert "| blocked | ≥ 1.0× | 1.04× (9,000 req/s) | met |" in table
    assert "| open | ≥ 1.0× | 0.71× (6,000 req/s) | NOT MET |" in table
    assert "| click | ≥ 1.0× | 1.20× (9,000 req/s), 3 errors | NOT MET |" in table
    assert "| peer | ≥ 2.0× | not measured: php-fpm is not installed | not measured |" in table
