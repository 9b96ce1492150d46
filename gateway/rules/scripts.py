"""`[scripts]` of a tag rule: the vendor loader scripts the gateway serves first-party.

    [scripts."/gtag/js"]
    upstream = "https://www.googletagmanager.com/gtag/js"   # https only, never user-chosen
    params = ["id", "l"]                                     # the only query keys passed on
    allowed_values = { id = ["G-XXXXXXXXXX"] }              # this site's ids only

The browser then loads `https://consent.example.com/t/ga4/gtag/js?id=G-…` and never contacts
the vendor's host itself before consent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from gateway.rules.model import ScriptRule
from gateway.rules.name_sets import NameSet
from gateway.rules.table import RuleTable

_PATH = re.compile(r"(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+")
_PARAM = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
MAX_SCRIPTS = 8


def read_scripts(
    doc: RuleTable,
    hit_paths: tuple[str, ...],
    check_url: Callable[[RuleTable, str, str], None],
) -> tuple[ScriptRule, ...]:
    """The rule's `[scripts]`; `check_url(table, key, url)` applies the upstream URL policy."""
    if not doc.has("scripts"):
        return ()
    table = doc.table("scripts", (), open_keys=True)
    if len(table.values) > MAX_SCRIPTS:
        table.fail("", f"expected at most {MAX_SCRIPTS} scripts")
    taken = {path.rstrip("/") for path in hit_paths}
    scripts = []
    for path in table.values:
        if not _PATH.fullmatch(path) or any(s in {".", ".."} for s in path.split("/")):
            table.fail(path, "expected a path such as '/gtag/js' (letters, digits, . _ ~ -)")
        if path in taken:
            table.fail(path, "is also a hit path ([hit] paths): choose one")
        entry = table.table(path, ("upstream", "params", "allowed_values"))
        upstream = entry.string("upstream")
        check_url(entry, "upstream", upstream)
        if urlsplit(upstream).query:
            entry.fail("upstream", f"expected no '?query' (use params), got {upstream!r}")
        params = entry.strings("params")
        for index, name in enumerate(params):
            if not _PARAM.fullmatch(name):
                entry.fail(f"params[{index}]", f"expected a parameter name, got {name!r}")
        pinned = entry.value_lists("allowed_values", within=NameSet(tuple(params)))
        scripts.append(ScriptRule(path, upstream, tuple(params), pinned))
    return tuple(scripts)
