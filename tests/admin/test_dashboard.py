"""The dashboard after real traffic: its numbers are the gateway's own counters and receipts."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.admin.conftest import ADMIN, ADMIN_HASH, ORIGIN
from tests.admin.html_reading import form_token, log_in, row, tables, tile
from tests.clocks import SteadyClock
from tests.conftest import SITE, serving

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/156.0.0.0 Safari/537.36"
)
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
VISITOR = {"Origin": SITE, "User-Agent": CHROME}
SAME_ORIGIN = {"Origin": ORIGIN}


def day_label(day: date) -> str:
    """How the dashboard names a day in its tables: `5 Mar`."""
    return f"{day.day} {day:%b}"


async def choose(app: Starlette, body: Mapping[str, object], **headers: str) -> str:
    """A new visitor's choice through `POST /consent`; their subject (consent) id."""
    async with serving_again(app) as visitor:
        answer = await visitor.post("/consent", json=body, headers={**VISITOR, **headers})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["consent"]["id"])


def serving_again(app: Starlette) -> httpx.AsyncClient:
    """Another client (its own cookie jar) on the app whose lifespan is already running."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 50000))
    return httpx.AsyncClient(transport=transport, base_url=ORIGIN)


async def settle(gateway: Gateway) -> None:
    """Write what the gateway holds in memory (email events, counts), as its timers would."""
    await gateway.email.recorder.flush(settle=False)
    await gateway.counter.flush()


async def test_the_dashboard_shows_the_counters_of_real_traffic(
    app: Starlette, gateway: Gateway, admin: httpx.AsyncClient, clock: SteadyClock
) -> None:
    for body in ({"action": "accept_all"}, {"action": "accept_all"}, {"action": "reject_all"}):
        await choose(app, body)
    await choose(app, {"granted": ["analytics"]}, **{"Sec-GPC": "1"})
    async with serving_again(app) as visitor:  # a choice, then its withdrawal
        await visitor.post("/consent", json={"action": "accept_all"}, headers=VISITOR)
        assert (await visitor.delete("/consent", headers=VISITOR)).status_code == 200
    outcomes: Counter[tuple[str, str]] = Counter()
    for vendor in ("ga4", "ga4", "meta_pixel", "plausible"):
        hit = await admin.get(f"/t/{vendor}?v=2&en=page_view", headers={"User-Agent": CHROME})
        outcomes[vendor, hit.headers["x-consent-decision"].split(";")[0]] += 1
    links = gateway.email.signer.sign(
        campaign="spring",
        recipient="esp-1",
        urls=["https://www.example.com/a"],
        sent_at=time.time() - 3600,
    )
    open_path = urlsplit(links.open_url).path
    await admin.get(open_path, headers={"User-Agent": CHROME})
    await admin.get(open_path, headers={"User-Agent": GMAIL_PROXY})
    await settle(gateway)

    page = (await admin.get("/admin")).text
    assert tile(page, "choices") == "5"  # 3 accept all, 1 custom, 1 reject all
    assert tile(page, "accepted") == "60%"
    assert tile(page, "rejected") == "20%"
    assert tile(page, "gpc") == "17%"  # 1 of 6 receipts (the withdrawal is one)
    assert tile(page, "hits") == "4"
    assert tile(page, "opens") == "1"
    today = day_label(clock.today())
    choices = row(page, "Consent choices per day", today)
    assert choices == [today, "3", "1", "1", "1", "6"]  # accept, custom, reject, withdrawn
    head = tables(page)["Opt-in rate per category and day"][0]
    rates = dict(zip(head, row(page, "Opt-in rate per category and day", today), strict=True))
    assert rates["Analytics"] == "67%"  # granted by 3 accept all + 1 custom; denied by 2
    assert rates["Marketing"] == "50%"  # the GPC choice did not grant it
    assert row(page, "Refusal and acceptance", "Reject all") == ["Reject all", "1", "20%"]
    assert row(page, "Global Privacy Control", "GPC on") == ["GPC on", "1", "17%"]
    columns = tables(page)["Hit decisions per vendor"][0]
    for vendor in ("ga4", "meta_pixel", "plausible"):
        cells = dict(zip(columns, row(page, "Hit decisions per vendor", vendor), strict=True))
        for outcome, name in (
            ("forward", "Forwarded"),
            ("anonymous", "Anonymous"),
            ("block", "Blocked"),
        ):
            assert cells[name] == str(outcomes[vendor, outcome]), (vendor, outcome)
    assert row(page, "Email opens per campaign", "spring") == ["spring", "1", "1", "0", "2"]
    latest = tables(page)["The 6 most recent receipts, newest first"]
    assert [cells[2] for cells in latest[1:]][:2] == ["withdraw", "accept all"]
    assert len(latest) == 7


async def test_the_numbers_move_with_more_traffic(
    app: Starlette, gateway: Gateway, admin: httpx.AsyncClient
) -> None:
    await settle(gateway)
    before = tile((await admin.get("/admin")).text, "choices")
    await choose(app, {"action": "reject_all"})
    await settle(gateway)
    page = (await admin.get("/admin?days=7")).text
    assert (before, tile(page, "choices")) == ("0", "1")
    assert '<a href="/admin?days=7" aria-current="page">7 days</a>' in page
    assert len(tables(page)["Consent choices per day"]) == 1 + 7


async def test_the_receipts_csv_is_the_api_export(
    app: Starlette, admin: httpx.AsyncClient, clock: SteadyClock
) -> None:
    subjects = [await choose(app, {"action": action}) for action in ("accept_all", "reject_all")]
    download = await admin.get("/admin/receipts.csv")
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"].startswith('attachment; filename="receipts-')
    api = await admin.get("/api/receipts?format=csv", headers={"Authorization": f"Bearer {ADMIN}"})
    assert download.text == api.text
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["subject_id"] for r in rows] == subjects
    since = await admin.get(f"/admin/receipts.csv?since={clock.day()}&until=2999-01-01")
    assert since.text == download.text


async def test_the_receipts_csv_needs_a_session(http: httpx.AsyncClient) -> None:
    answer = await http.get("/admin/receipts.csv")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login"


async def lookup(
    admin: httpx.AsyncClient, subject: str, path: str = "/admin/subject", **fields: str
) -> httpx.Response:
    token = form_token((await admin.get("/admin")).text)
    return await admin.post(
        path, data={"csrf_token": token, "subject": subject, **fields}, headers=SAME_ORIGIN
    )


async def test_look_up_export_and_erase_a_subject(app: Starlette, admin: httpx.AsyncClient) -> None:
    async with serving_again(app) as visitor:
        first = await visitor.post("/consent", json={"action": "accept_all"}, headers=VISITOR)
        await visitor.post("/consent", json={"action": "reject_all"}, headers=VISITOR)
    subject = first.json()["consent"]["id"]
    bystander = await choose(app, {"action": "accept_all"})

    found = await lookup(admin, f"  {subject} ")
    assert found.status_code == 200
    assert "2 receipts and the records below are held" in found.text
    receipts = tables(found.text)["This subject's receipts, newest first"]
    assert [cells[1] for cells in receipts[1:]] == ["reject all", "accept all"]

    exported = await lookup(admin, subject, "/admin/subject/export")
    assert (
        exported.headers["content-disposition"] == f'attachment; filename="subject-{subject}.json"'
    )
    document = json.loads(exported.text)
    assert document["subject_id"] == subject
    assert len(document["receipts"]) == 2

    asked = await lookup(admin, subject, "/admin/subject/erase")
    assert "Erase this subject?" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    assert "2 receipts" in (await lookup(admin, subject)).text  # asking erased nothing

    erased = await lookup(admin, subject, "/admin/subject/erase", confirmed="yes")
    assert erased.status_code == 200
    assert "Subject erased" in erased.text
    assert ["Receipts", "2"] in _facts(erased.text)

    gone = await lookup(admin, subject)
    assert "Nothing is held about this subject." in gone.text
    assert "only its tombstone is left" in gone.text
    dashboard = (await admin.get("/admin")).text
    assert subject not in dashboard
    assert bystander in dashboard


def _facts(html: str) -> list[list[str]]:
    return [[dt, dd] for dt, dd in re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", html)]


@pytest.mark.parametrize(
    "subject", ["", "   ", "ada@example.com", "x" * 65, "a b", "<script>", "é"]
)
async def test_a_subject_that_cannot_be_one_is_explained_not_looked_up(
    admin: httpx.AsyncClient, subject: str
) -> None:
    for path in ("/admin/subject", "/admin/subject/export", "/admin/subject/erase"):
        answer = await lookup(admin, subject, path, confirmed="yes")
        assert answer.status_code == 422, path
        assert "A subject id is 1 to 64 letters" in answer.text
        assert "<script>" not in answer.text


@pytest.mark.parametrize(
    ("method", "path", "options"),
    [
        ("GET", "/admin?days=abc", {}),
        ("GET", "/admin?days=-1", {}),
        ("GET", "/admin?days=99999999999999999999", {}),
        ("GET", "/admin/receipts.csv?since=yesterday", {}),
        ("GET", "/admin/receipts.csv?until=2026-13-45", {}),
        ("POST", "/admin/subject", {"json": {"subject": "esp-1"}}),
        ("POST", "/admin/subject", {"content": b"subject=" + b"x" * 5000, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
        ("POST", "/admin/subject", {"content": b"subject=\xff\xfe", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
        ("POST", "/admin/login", {"content": b"token=%ZZ&&==", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
        ("POST", "/admin/login", {"content": b"", "headers": {"Content-Type": "text/plain"}}),
        ("PUT", "/admin", {}),
        ("DELETE", "/admin/subject", {}),
        ("GET", "/admin/subject", {}),
        ("GET", "/admin/nothing-here", {}),
        ("GET", "/admin", {"headers": {"Cookie": "cg_admin=" + "A" * 4000}}),
        ("GET", "/admin", {"headers": {"Cookie": "cg_admin=e30.AAAAAA.AAAA"}}),
    ],
)  # fmt: skip
async def test_bad_input_is_a_4xx_or_the_default_never_a_5xx(
    admin: httpx.AsyncClient, method: str, path: str, options: dict[str, object]
) -> None:
    answer = await admin.request(method, path, **options)  # type: ignore[arg-type]
    assert answer.status_code < 500, answer.text
    if path.startswith("/admin?days"):
        assert '<a href="/admin?days=14" aria-current="page">' in answer.text


async def test_with_the_store_down_the_dashboard_still_answers_and_says_so(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        admin_token_hashes=(ADMIN_HASH,),
        public_url=ORIGIN,
        store="redis://127.0.0.1:1/0",
        store_timeout_seconds=0.2,
    )
    async with serving(create_app(settings)) as http:
        await log_in(http, ADMIN)
        page = await http.get("/admin")
        assert page.status_code == 200
        assert "redis: not answering" in page.text
        assert tile(page.text, "choices") == "0"
