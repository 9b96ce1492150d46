"""Who is asking: a person's browser or mail client, or a machine, told from the user agent.

`classify_visitor` is pure and cached. It decides in three steps, cheapest first:

1. one regex pass over the agent for signs of a machine (`agent_patterns`), which
   settles crawlers, HTTP libraries, headless browsers, link scanners and mail
   image proxies without parsing;
2. an agent that does not even look like a browser or a known mail client is a
   machine of unknown kind;
3. everything else goes to `user_agents` (ua-parser) for browser, OS and device,
   and ua-parser's own robot list gets the last word.
"""

from __future__ import annotations

import functools
import itertools
import re
import string
from typing import Final
from urllib.parse import unquote

import user_agents
from user_agents.parsers import EMAIL_PROGRAM_FAMILIES

from gateway.model.visitors import AgentRole, DeviceKind, Visitor
from gateway.visitors import agent_patterns as patterns

OTHER: Final = "Other"
CACHE_SIZE: Final = 8192
# Real agents stay under ~300 characters; the cap bounds what the cache can hold.
MAX_AGENT_LENGTH: Final = 512

# In order of precedence: an image proxy is never mistaken for a crawler.
_MACHINE_TABLES: Final[tuple[tuple[AgentRole, tuple[str, ...]], ...]] = (
    ("image_proxy", patterns.IMAGE_PROXY),
    ("link_scanner", patterns.LINK_SCANNER),
    ("headless", patterns.HEADLESS),
    ("http_library", patterns.HTTP_LIBRARY),
    ("crawler", patterns.CRAWLER),
)
_MACHINE_ROLES: Final = tuple(
    (role, patterns.compile_keywords(table)) for role, table in _MACHINE_TABLES
)
# One pass tells a browser from "some machine"; the per-role patterns only run on a hit.
_ANY_MACHINE: Final = patterns.compile_keywords(
    itertools.chain.from_iterable(table for _, table in _MACHINE_TABLES)
)
_NO_AGENT: Final = Visitor(is_bot=True, role="unknown", browser=OTHER, os=OTHER, device="bot")
_MAIL_FAMILIES: Final = frozenset(EMAIL_PROGRAM_FAMILIES) | {
    "Airmail",
    "MacOutlook",
    "Outlook-iOS",
    "Outlook-Android",
    "IBM Notes",
    "Lotus Notes",
}
# Apple Mail renders with the system WebKit, which (unlike Safari) adds no
# "Version/… Safari/…" tokens.
_BARE_APPLE_WEBKIT: Final = re.compile(
    r"^Mozilla/5\.0 \((?:Macintosh|iPhone|iPad|iPod)[^)]*\) AppleWebKit/[\d.]+ "
    r"\(KHTML, like Gecko\)(?: Mobile/\w+)?$"
)
# A native app's own HTTP stack: Android's default agent ("Dalvik/2.1.0 (Linux; U; Android 14;
# Pixel 8 …)"), the "App/1.2 (bundle; build:3; iOS 17.5.0)" form of Alamofire, AFNetworking and
# Ktor, and iOS's CFNetwork ("App/41 CFNetwork/1494.0.7 Darwin/23.4.0"). A person's device,
# not a machine acting on its own — checked after every machine pattern, so "SomeBot/1.0
# (Android 14)" is still a bot. A bare "okhttp/4.12" says nothing of a person: an app should
# send its own agent (see docs/mobile-apps.md).
_APP_AGENT: Final = re.compile(
    r"^(?P<name>[A-Za-z][\w.%-]{0,60})/[\w.]+ "  # iOS escapes spaces: "My%20App/1"
    r"(?:\((?:[^;()]*; )*?(?P<os>iOS|iPadOS|Android|watchOS|tvOS)[ /]\d"
    r"|(?:\S+ )*?CFNetwork/[\d.]+ Darwin/\d)"
)
_ASCII_LOWER: Final = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_VERSION_SUFFIX: Final = re.compile(r"[/ ]v?\d[\w.]*$")
_PRODUCT_CHARS: Final = frozenset(string.ascii_letters + string.digits + "-_.!")


def classify_visitor(user_agent: str | None) -> Visitor:
    """Classify a User-Agent header value; a missing or empty one is an unknown bot.

    >>> classify_visitor("curl/8.5.0")
    Visitor(is_bot=True, role='http_library', browser='curl', os='Other', device='bot')
    >>> classify_visitor(
    ...     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
    ...     " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    ... ).device
    'mobile'
    """
    if not user_agent:
        return _NO_AGENT
    return _classify_agent(user_agent[:MAX_AGENT_LENGTH])


def classification_cache_info() -> functools._CacheInfo:
    """Hits and misses of the classification cache (for tests and metrics)."""
    return _classify_agent.cache_info()


@functools.lru_cache(maxsize=CACHE_SIZE)
def _classify_agent(user_agent: str) -> Visitor:
    agent = user_agent.strip()
    if not agent:
        return _NO_AGENT
    machine = _machine_by_pattern(agent)
    if machine is not None:
        return machine
    looks_like_browser = patterns.BROWSER_SHAPE.match(agent) is not None
    if not looks_like_browser and (app := _APP_AGENT.match(agent)):
        return _native_app(agent, app)
    if not looks_like_browser and not patterns.MAIL_CLIENT.search(agent):
        return _machine("unknown", _product_around(agent, 0, 0))

    parsed = user_agents.parse(agent)
    family: str = parsed.browser.family
    if parsed.is_bot:
        return _machine("crawler", family)
    if family in _MAIL_FAMILIES or _BARE_APPLE_WEBKIT.match(agent):
        role: AgentRole = "mail_client"
        family = "Apple Mail" if family == "Mobile Safari UI/WKWebView" else family
    elif looks_like_browser:
        role = "browser"
    else:
        return _machine("unknown", _product_around(agent, 0, 0))
    return Visitor(
        is_bot=False, role=role, browser=family, os=parsed.os.family, device=_device_kind(parsed)
    )


def _machine_by_pattern(agent: str) -> Visitor | None:
    # Only ASCII letters are folded, so positions in `lowered` are positions in `agent`.
    lowered = agent.translate(_ASCII_LOWER)
    if _ANY_MACHINE.search(lowered):
        for role, pattern in _MACHINE_ROLES:
            match = pattern.search(lowered)
            if match:
                return _machine(role, _product_around(agent, *match.span()))
    if patterns.NOT_A_BROWSER.search(agent):
        return _machine("crawler", OTHER)
    return None


def _native_app(agent: str, app: re.Match[str]) -> Visitor:
    os = app.group("os") or "iOS"  # CFNetwork: Apple's stack, an iPhone or iPad app
    name = unquote(app.group("name"))[:40]
    if name == "Dalvik":
        name = "Android app"  # the platform's agent: the app did not name itself
    tablet = "iPad" in agent or os == "iPadOS"
    return Visitor(
        is_bot=False,
        role="app",
        browser=name,
        os="iOS" if os == "iPadOS" else os,
        device="tablet" if tablet else "mobile",
    )


def _machine(role: AgentRole, name: str) -> Visitor:
    if role == "image_proxy":
        return Visitor(is_bot=False, role=role, browser=name, os=OTHER, device="other")
    return Visitor(is_bot=True, role=role, browser=name, os=OTHER, device="bot")


def _product_around(agent: str, start: int, end: int) -> str:
    """The product token a pattern hit sits in: "AhrefsBot" for a hit on "bot"."""
    while start > 0 and agent[start - 1] in _PRODUCT_CHARS:
        start -= 1
    while end < len(agent) and agent[end] in _PRODUCT_CHARS:
        end += 1
    name = _VERSION_SUFFIX.sub("", agent[start:end]).strip("-_.")
    return name if any(char.isalpha() for char in name) else OTHER


def _device_kind(parsed: user_agents.parsers.UserAgent) -> DeviceKind:
    if parsed.is_tablet:
        return "tablet"
    if parsed.is_mobile:
        return "mobile"
    if parsed.is_pc:
        return "desktop"
    return "other"
