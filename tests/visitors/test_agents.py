"""User-agent classification, held to real-world corpora and a table of named agents.

The corpora in tests/data were written by nobody on this project (see their
LICENSE files): crawler-user-agents.json is the recall set, browsers-intoli.tsv
the false-positive set, uap-core-test_ua.yaml the mail-client set.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from pathlib import Path

import pytest

from gateway.model.visitors import Visitor
from gateway.visitors.agents import MAX_AGENT_LENGTH, classification_cache_info, classify_visitor

DATA = Path(__file__).resolve().parents[1] / "data"
PERSON_ROLES = ("browser", "mail_client")


@functools.cache
def crawler_instances() -> tuple[str, ...]:
    entries = json.loads((DATA / "crawler-user-agents.json").read_text(encoding="utf-8"))
    return tuple(agent for entry in entries for agent in entry.get("instances", ()))


@functools.cache
def browser_corpus() -> tuple[tuple[float, str, str], ...]:
    """(traffic weight, device class, user agent) of real browsers."""
    with (DATA / "browsers-intoli.tsv").open(encoding="utf-8", newline="") as file:
        rows = csv.DictReader(file, delimiter="\t")
        return tuple((float(row["weight"]), row["device"], row["user_agent"]) for row in rows)


@functools.cache
def uap_cases() -> tuple[tuple[str, str], ...]:
    """(user agent, expected family) from uap-core's test_ua.yaml.

    PyYAML is not a dependency; the file is a flat list of quoted scalars, so a
    regex reads it. Single-quoted YAML doubles a quote to escape it.
    """
    text = (DATA / "uap-core-test_ua.yaml").read_text(encoding="utf-8")
    scalar = r"""(?:'((?:[^']|'')*)'|"((?:[^"\\]|\\.)*)")"""
    case = re.compile(rf"- user_agent_string: {scalar}\n\s+family: {scalar}")
    return tuple(
        ((a1.replace("''", "'") or a2), (f1.replace("''", "'") or f2))
        for a1, a2, f1, f2 in case.findall(text)
    )


def test_flags_real_crawlers_as_bots() -> None:
    agents = crawler_instances()
    missed = [agent for agent in agents if not classify_visitor(agent).is_bot]
    recall = 1 - len(missed) / len(agents)
    assert len(agents) > 2000
    assert recall >= 0.95, f"recall {recall:.2%} of {len(agents)} crawlers; missed: {missed[:20]}"
    print(f"crawler recall {recall:.2%} ({len(agents) - len(missed)}/{len(agents)})")


def test_takes_real_browsers_for_people() -> None:
    corpus = browser_corpus()
    total = sum(weight for weight, _, _ in corpus)
    wrong = [
        (agent, visitor)
        for _, _, agent in corpus
        if (visitor := classify_visitor(agent)).is_bot or visitor.role not in PERSON_ROLES
    ]
    wrong_agents = {agent for agent, _ in wrong}
    rate = sum(weight for weight, _, agent in corpus if agent in wrong_agents) / total
    assert len(corpus) == 10_000
    assert rate <= 0.005, f"{rate:.3%} of browser traffic taken for machines: {wrong[:20]}"
    print(f"browser false-positive rate {rate:.3%} by weight ({len(wrong)} agents)")


def test_device_kind_agrees_with_browser_corpus() -> None:
    corpus = browser_corpus()
    disagree = [
        (device, agent) for _, device, agent in corpus if classify_visitor(agent).device != device
    ]
    assert len(disagree) <= len(corpus) // 100, disagree[:20]


@pytest.mark.parametrize(
    "family", ["Outlook", "Windows Live Mail", "Thunderbird", "Apple Mail", "Airmail", "Barca"]
)
def test_mail_clients_of_uap_core_are_mail_clients(family: str) -> None:
    agents = [agent for agent, expected in uap_cases() if expected == family]
    assert agents, f"no {family} in the corpus"
    for agent in agents:
        visitor = classify_visitor(agent)
        assert (visitor.role, visitor.is_bot) == ("mail_client", False), agent


IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("user_agent", "is_bot", "role", "device"),
    [
        pytest.param(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " HeadlessChrome/125.0.6422.60 Safari/537.36",
            True, "headless", "bot",
            id="HeadlessChrome",
        ),
        pytest.param(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/120.0.0.0 Safari/537.36 Playwright/1.40.0",
            True, "headless", "bot",
            id="Playwright",
        ),
        pytest.param("python-requests/2.32.3", True, "http_library", "bot", id="python-requests"),
        pytest.param("curl/8.5.0", True, "http_library", "bot", id="curl"),
        pytest.param("Go-http-client/2.0", True, "http_library", "bot", id="Go-http-client"),
        pytest.param("Java/17.0.2", True, "http_library", "bot", id="Java"),
        pytest.param("okhttp/4.12.0", True, "http_library", "bot", id="okhttp"),
        pytest.param("axios/1.7.2", True, "http_library", "bot", id="axios"),
        pytest.param(
            "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
            True, "http_library", "bot",
            id="node-fetch",
        ),
        pytest.param(
            "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
            False, "image_proxy", "other",
            id="GoogleImageProxy",
        ),
        pytest.param(
            "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
            False, "image_proxy", "other",
            id="YahooMailProxy",
        ),
        # Microsoft's link probe; Safe Links detonation itself sends a plain browser agent.
        pytest.param(
            "Microsoft Office Existence Discovery", True, "link_scanner", "bot", id="Safe Links style"
        ),
        pytest.param(
            "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))",
            True, "link_scanner", "bot",
            id="Barracuda",
        ),
        pytest.param(
            "Mozilla/5.0 (compatible; Proofpoint URL Defense)",
            True, "link_scanner", "bot",
            id="Proofpoint",
        ),
        pytest.param(
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            True, "link_scanner", "bot",
            id="Slack unfurl",
        ),
        pytest.param(
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36"
            " (KHTML, like Gecko) Chrome/125.0.6422.60 Mobile Safari/537.36"
            " (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            True, "crawler", "bot",
            id="Googlebot smartphone",
        ),
        pytest.param(
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0;"
            " +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
            True, "crawler", "bot",
            id="bingbot",
        ),
        # Native apps are a person's device (mobile apps send hits through /t too).
        pytest.param("Luminary/70 CFNetwork/978.0.7 Darwin/18.5.0", False, "app", "mobile", id="app"),
        pytest.param("My%20Shop/41 CFNetwork/1494.0.7 Darwin/23.4.0", False, "app", "mobile", id="app-escaped-name"),
        pytest.param("ShopApp/3.2 (com.example.shop; build:41; iOS 17.5.0) Alamofire/5.9.1", False, "app", "mobile", id="alamofire"),
        pytest.param("ShopApp/3.2 (iPad; iOS 17.5; Scale/2.00)", False, "app", "tablet", id="afnetworking-ipad"),
        pytest.param("Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UD1A.230803.041)", False, "app", "mobile", id="dalvik"),
        pytest.param("SpiderBot/1.0 (Linux; Android 14)", True, "crawler", "bot", id="bot-with-an-app-shape"),
        pytest.param("curl/8.5.0 (Android 14)", True, "http_library", "bot", id="library-with-an-app-shape"),
        pytest.param(IPHONE_SAFARI, False, "browser", "mobile", id="iPhone Safari"),
        pytest.param(
            "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/125.0.0.0 Mobile Safari/537.36",
            False, "browser", "mobile",
            id="Android Chrome",
        ),
        pytest.param(
            "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
            " Version/17.5 Mobile/15E148 Safari/604.1",
            False, "browser", "tablet",
            id="iPad",
        ),
        pytest.param(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
            False, "browser", "desktop",
            id="Windows Firefox",
        ),
        pytest.param(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"
            " (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/441.0.0.23.105;FBBV/535493427;"
            "FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
            False, "browser", "mobile",
            id="Facebook in-app",
        ),
        pytest.param(
            "Mozilla/5.0 (Linux; Android 11; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/120.0.0.0 Mobile Safari/537.36",
            False, "browser", "mobile",
            id="CUBOT phone is no bot",
        ),
        pytest.param(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15"
            " (KHTML, like Gecko) Mobile/15E148 NAVER(inapp; search; 1010; 12.0.11; 14PRO)",
            False, "browser", "mobile",
            id="NAVER in-app search",
        ),
        pytest.param(
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126; Pro)",
            False, "mail_client", "desktop",
            id="Outlook",
        ),
        pytest.param(
            "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
            False, "mail_client", "other",
            id="Outlook rendering",
        ),
        pytest.param(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.12.0",
            False, "mail_client", "desktop",
            id="Thunderbird",
        ),
        pytest.param(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
            False, "mail_client", "desktop",
            id="Apple Mail",
        ),
        pytest.param(
            "Outlook-Express/7.0 (MSIE 7.0; Windows NT 6.1; Trident/4.0; TmstmpExt)",
            False, "mail_client", "desktop",
            id="Windows Live Mail",
        ),
        pytest.param("", True, "unknown", "bot", id="empty"),
        pytest.param("   ", True, "unknown", "bot", id="blank"),
        pytest.param(None, True, "unknown", "bot", id="missing"),
    ],
)  # fmt: skip
def test_classify_visitor(user_agent: str | None, is_bot: bool, role: str, device: str) -> None:
    visitor = classify_visitor(user_agent)
    assert (visitor.is_bot, visitor.role, visitor.device) == (is_bot, role, device)


def test_names_browser_os_and_bot() -> None:
    assert classify_visitor(IPHONE_SAFARI) == Visitor(
        is_bot=False, role="browser", browser="Mobile Safari", os="iOS", device="mobile"
    )
    ahrefs = "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"
    assert classify_visitor(ahrefs) == Visitor(
        is_bot=True, role="crawler", browser="AhrefsBot", os="Other", device="bot"
    )


def test_overlong_agent_is_cut_before_caching() -> None:
    padding = " x" * MAX_AGENT_LENGTH
    assert classify_visitor(IPHONE_SAFARI + padding) == classify_visitor(IPHONE_SAFARI)
    assert classify_visitor("curl/8.5.0" + padding).role == "http_library"


def test_repeated_agent_is_served_from_the_cache() -> None:
    agent = IPHONE_SAFARI.replace("17_5", "17_4_1")  # an agent no other test asks about
    before = classification_cache_info()
    first = classify_visitor(agent)
    second = classify_visitor(agent)
    after = classification_cache_info()
    assert second is first
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
    assert after.maxsize == 8192
