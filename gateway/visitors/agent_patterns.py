r"""Pattern tables for user-agent classification, compiled once at import.

Each table lists the signs of one kind of machine, so adding a scanner or a
library is a one-line change here and never touches the decision order in
`agents.py`. Entries are matched against the *lowercased* agent and start with
literal text ("bot", "curl"), optionally followed by regex syntax that narrows
the hit ("bot(?!tom)"). A leading `^` anchors an entry at the start of the
agent, a leading `\b` at the start of a word.

The literal heads are merged into one prefix tree per table: Python's `re` tries
every alternative at every position, so a flat alternation of ~250 keywords
costs hundreds of microseconds an agent, while the tree costs a few.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

# Fetches a mail provider makes for a person who opened the message.
IMAGE_PROXY: Final = (
    "googleimageproxy",
    r"ggpht\.com(?!.*googleimageproxy)",
    "yahoomailproxy",
    # Apple's Mail Privacy Protection fetches remote content with this bare agent.
    r"^mozilla/5\.0$",
)

# Mail-security gateways, Office link probes and chat unfurlers: they follow a
# link because it sits in a message, not because someone clicked it.
LINK_SCANNER: Final = (
    "barracuda",
    "proofpoint",
    "mimecast",
    "safe ?links",
    "url ?defense",
    "linkprotect",
    "office 365 atp",
    "symantec",
    "messagelabs",
    "trend ?micro",
    "fireeye",
    "forcepoint",
    "websense",
    "ironport",
    "sophos",
    "zscaler",
    "avanan",
    "vade ?secure",
    "spamtitan",
    "hornetsecurity",
    "cloudmark",
    "appriver",
    "libraesva",
    "forti(?:guard|mail|net)",
    "microsoft office (?:existence|protocol) discovery",
    "preview",
    "unfurl",
    "linkexpanding",
    "facebookexternalhit",
    "meta-external",
    "twitterbot",
    "slackbot",
    "discordbot",
    "telegrambot",
    "linkedinbot",
    "whatsapp",
    "^viber",
    "vkshare",
    "embedly",
    "iframely",
)

# Real browser engines driven by a program.
HEADLESS: Final = (
    "headless",
    "phantomjs",
    "slimerjs",
    "puppeteer",
    "playwright",
    "selenium",
    "webdriver",
    "htmlunit",
    "jsdom",
    "lighthouse",
    "cypress/",
    "prerender",
    r"\bsplash\b",
)

# HTTP client libraries and command-line tools.
HTTP_LIBRARY: Final = (
    "python",
    "aiohttp",
    "httpx",
    "urllib",
    r"\brequests/",
    r"\bcurl\b",
    r"\bwget\b",
    "libwww",
    r"\blwp\b",
    r"\blwp-",
    "lwp::",
    "mechanize",
    "go-http-client",
    r"^go\b",
    "^java",
    # Not the "Java/ASVM" runtime tag of feature-phone browsers.
    r"\bjava(?:/\d|\)|\s\d)",
    "jakarta",
    "jersey/",
    "jetty/",
    "okhttp",
    "axios/",
    "node-fetch",
    r"^got\b",
    "undici",
    "superagent",
    r"^node\b",
    "^deno/",
    "^bun/",
    "^dart/",
    r"\bruby\b",
    r"http\.rb",
    "rest-client",
    "faraday",
    "typhoeus",
    "guzzle",
    r"\bphp\b",
    r"\bperl\b",
    "httpie",
    "postmanruntime",
    "insomnia",
    "http[-_ ]?client",
    "http[-_ ]?request",
    "winhttp",
    "url control",
    "indy library",
    "^ahc/",
    "pcore-http",
    "anyevent-http",
    "reqwest",
    "^hyper/",
    "^http_get",
    r"\bcolly\b",
    "httrack",
    "webcopier",
    "webcopy",
    "sitesucker",
)

# Robots, crawlers and services, named by what they do.
CRAWLER: Final = (
    # Not the CUBOT phone maker, nor the carrier "Orange Botswana".
    "bot(?<!cubot)(?!tom|tle|swana)",
    "crawl",
    "spider",
    "spyder",
    "slurp",
    "scrap[eiy]",
    "archiv",
    "harvest",
    "index",
    "fetch",
    "feed",
    "rss",
    "podcast",
    "monitor",
    "uptime",
    "pingdom",
    "check",
    "validat",
    "scan",
    "probe",
    "survey",
    "research",
    "synthetic",
    "audit",
    "sitemap",
    r"\bseo",
    "webhook",
    "screenshot",
    "thumbnail",
    "capture",
    "parser",
    "detector",
    "analy[sz]",
    "search(?!browser|;)",  # not the NAVER app's "(inapp; search; …)"
    # Not "GoogleTV", "GooglePlay" or the "Google/google" maker field of an app.
    "google(?<![a-z/]google)(?!tv|play|/)",
    r"\bamazon(?!webappplatform|[-_ ]?(?:silk|kindle))",
    "cloudflare",
    "datadog",
    "anthropic-ai",
    "cohere-ai",
    "claude-",
    "perplexity(?:-?user|bot)",
    # AI assistants browsing for someone: "ChatGPT-User", "MistralAI-User".
    r"-user\b(?<=[a-z]-user)",
    r"agent\b",
    "nikto",
    "sqlmap",
    "zmeu",
    "acunetix",
    "nessus",
    "nmap",
    "openvas",
    "zgrab",
    "masscan",
    "dirbuster",
)

# Signs no browser sends, matched case-sensitively: a web address, a contact
# e-mail, or a "compatible" token that does not introduce Internet Explorer.
NOT_A_BROWSER: Final = re.compile(
    r"https?:|\+http|\bwww\."
    # A domain, but not an app id ("com.example.app"), a carrier ("FBCR/Telekom.de") or ".NET".
    r"|\.(?<=[A-Za-z0-9-]{2}\.)(?:com|net|org|io)\b(?!\.\w)"
    r"|@(?<=\w@)[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}"
    r"|\((?:at|AT)\)|\[at\]"
    r"|compatible[;)]\s*+(?!MSIE|Konqueror|ms-office|MSOffice|Lotus-Notes)"
)

# A browser says "Mozilla/N.0 (platform ...)" and names a rendering engine.
BROWSER_SHAPE: Final = re.compile(
    r"^Opera/\d"
    r"|^Mozilla/[45]\.0 ?\(.*?(?:AppleWebKit/|Gecko|Goanna/|Trident/|Presto/|KHTML|MSIE |Ladybird/)"
)

MAIL_CLIENT: Final = re.compile(
    r"Outlook|ms-office|MSOffice|Thunderbird|Windows Live Mail|Airmail|MailBar|^Barca"
    r"|Lotus.?Notes|IBM Notes|The Bat!|kmail|YahooMobileMail"
)


@dataclass
class _TrieNode:
    children: dict[str, _TrieNode] = field(default_factory=dict)
    tails: list[str] = field(default_factory=list)


_REGEX_SYNTAX: Final = frozenset("\\.^$*+?{}[]|()")


def compile_keywords(entries: Iterable[str]) -> re.Pattern[str]:
    """One regex for a table, its literal heads merged into a prefix tree."""
    root = _TrieNode()
    anchored: list[str] = []
    for entry in entries:
        if entry.startswith("^"):
            anchored.append(entry[1:])
            continue
        head, tail = _split_head(entry)
        node = root
        for char in head:
            node = node.children.setdefault(char, _TrieNode())
        node.tails.append(tail)
    branches = [_trie_regex(root)] if root.children else []
    if anchored:
        branches.append(f"^(?:{'|'.join(anchored)})")
    return re.compile("|".join(branches))


def _split_head(entry: str) -> tuple[str, str]:
    word_start = entry.startswith(r"\b")
    body = entry[2:] if word_start else entry
    cut = next((i for i, char in enumerate(body) if char in _REGEX_SYNTAX), len(body))
    if body[cut : cut + 1] in ("?", "*", "+", "{"):
        cut -= 1  # "safe ?links": the quantifier takes the space with it
    head, tail = body[:cut], body[cut:]
    if not head:
        raise ValueError(f"agent pattern {entry!r} must start with literal text")
    if word_start:
        tail = rf"(?<!\w{re.escape(head)}){tail}"
    return head, tail


def _trie_regex(node: _TrieNode) -> str:
    if "" in node.tails:
        return ""  # a bare keyword ends here: the longer ones add nothing
    branches = [f"(?:{tail})" for tail in node.tails]
    branches += [re.escape(char) + _trie_regex(child) for char, child in node.children.items()]
    return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
