"""Read and validate the `tag_rules/` folder; every problem is one `RuleError` line.

>>> from gateway.consent.model import DEFAULT_CATEGORIES
>>> rules = load_rules(Path(__file__).parents[2] / "tag_rules", categories=DEFAULT_CATEGORIES)
>>> rules["ga4"].hit.upstream
'https://www.google-analytics.com/g/collect'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import cast, get_args
from urllib.parse import urlsplit

from gateway.consent.model import NECESSARY
from gateway.errors import RuleError
from gateway.rules.disclosures import check_transfers, descriptions, locations, notice, safeguards
from gateway.rules.model import (
    BodyShape,
    Encoding,
    HitRule,
    IpHandling,
    Method,
    Mode,
    Platform,
    Rule,
    SignalParam,
    WithoutConsent,
)
from gateway.rules.name_sets import NameSet
from gateway.rules.scripts import read_scripts
from gateway.rules.table import NAME, RuleTable
from gateway.rules.transfers import EEA
from gateway.toml_files import read_toml

_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_HEADER = re.compile(r"[!#$%&'+.^_`|~0-9A-Za-z-]+")
_RULE_KEYS = (
    "id", "name", "category", "privacy_policy_url", "terms_url", "description", "cookies",
    "hosts", "notice", "hit", "platform", "storage", "scripts",
    "processing_locations", "transfer_safeguard", "descriptions",
)  # fmt: skip
_DISCLOSED = HitRule(mode="block")  # a necessary vendor's: never used, /t does not serve it
_HIT_KEYS = (
    "mode", "upstream", "method", "encoding", "allowed_params", "identifier_params",
    "fixed_params", "ip", "ip_param", "ip_header", "without_consent", "consent_mode",
    "paths", "bodies", "url_params", "url_query_keys", "advertising_id_params",
    "upstream_query_params", "signal_params", "email_params", "allowed_values",
)  # fmt: skip
# A sub-path the vendor's client appends: plain path segments, no dot segments, no query.
_SUB_PATH = re.compile(r"(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+/?")


def load_rules(
    folder: Path,
    *,
    categories: Sequence[str],
    allow_insecure_upstreams: bool = False,
    home: frozenset[str] = EEA,
) -> Mapping[str, Rule]:
    """Load every `*.toml` file in `folder` into a read-only mapping keyed by rule id.

    Raises `RuleError` naming the file, the dotted key and what was expected. Files whose
    name starts with a dot (editor back-ups) are skipped; other files are ignored. `home` is
    the operator's home region (`GATEWAY_HOME_REGION`, default the EEA): every processing
    location outside it needs a transfer safeguard.
    """
    if not folder.is_dir():
        raise RuleError(str(folder), "(folder)", "expected a directory of vendor rule files")
    allowed = tuple(categories) if NECESSARY in categories else (NECESSARY, *categories)
    rules: dict[str, Rule] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name.startswith(".") or not path.is_file():
            continue
        table = read_toml(path, RuleError)
        doc = RuleTable(str(path), table, _RULE_KEYS)
        rule = _build_rule(doc, allowed, allow_insecure_upstreams)
        check_transfers(doc, rule, home)
        if rule.id != path.stem:
            problem = f"expected {path.stem!r} (the file name), got {rule.id!r}"
            raise RuleError(str(path), "id", problem)
        rules[rule.id] = rule
    return MappingProxyType(rules)


def _build_rule(doc: RuleTable, categories: tuple[str, ...], insecure: bool) -> Rule:
    rule_id = doc.string("id")
    if not _ID.fullmatch(rule_id):
        doc.fail("id", f"expected lowercase letters, digits, '-' or '_', got {rule_id!r}")
    name = doc.string("name")
    if not name.strip():
        doc.fail("name", "expected a non-empty string")
    category = doc.string("category")
    if category not in categories:
        doc.fail("category", f"expected one of {', '.join(categories)}; got {category!r}")
    policy = doc.string("privacy_policy_url")
    _check_url(doc, "privacy_policy_url", policy, insecure=False)
    terms = doc.string("terms_url", "")
    if terms:
        _check_url(doc, "terms_url", terms, insecure=False)
    if category == NECESSARY:
        if doc.has("hit"):
            problem = "a 'necessary' vendor is disclosed only: remove [hit] (it is never blocked)"
            doc.fail("hit", problem)
        hit = _DISCLOSED
    else:
        hit = _build_hit(doc.table("hit", _HIT_KEYS), insecure, categories)
    return Rule(
        id=rule_id,
        name=name,
        category=category,
        privacy_policy_url=policy,
        description=doc.string("description", ""),
        cookies=doc.names("cookies"),
        hit=hit,
        terms_url=terms,
        notice=notice(doc),
        hosts=doc.hosts("hosts"),
        platform=doc.choice("platform", Platform, "web"),
        processing_locations=locations(doc),
        transfer_safeguards=safeguards(doc),
        descriptions=descriptions(doc),
        storage=doc.names("storage"),
        scripts=read_scripts(
            doc, hit.paths, lambda table, key, url: _check_url(table, key, url, insecure=insecure)
        ),
    )


def _build_hit(hit: RuleTable, insecure: bool, categories: tuple[str, ...]) -> HitRule:
    mode: Mode = hit.choice("mode", Mode)
    upstream = hit.optional_string("upstream")
    if upstream is not None:
        _check_url(hit, "upstream", upstream, insecure=insecure)
        if urlsplit(upstream).query:
            hit.fail("upstream", f"expected no '?query' (use fixed_params), got {upstream!r}")
    elif mode != "block":
        hit.fail("upstream", f"missing (required with mode = {mode!r})")
    method: Method = hit.choice("method", Method, "GET")
    encoding: Encoding = hit.choice("encoding", Encoding, "query" if method == "GET" else "form")
    if method == "GET" and encoding != "query":
        hit.fail("encoding", f"expected 'query' with method = 'GET', got {encoding!r}")
    if mode == "redirect" and method != "GET":
        hit.fail("method", "expected 'GET': a redirect makes the browser send a GET")
    allowed, identifiers = hit.names("allowed_params"), hit.names("identifier_params")
    for index, pattern in enumerate(identifiers.patterns):
        if not allowed.covers(pattern):
            hit.fail(f"identifier_params[{index}]", f"{pattern!r} is not within allowed_params")
    ip: IpHandling = hit.choice("ip", IpHandling, "drop")
    ip_param, ip_header = hit.optional_string("ip_param"), hit.optional_string("ip_header")
    _check_ip(hit, mode, ip, ip_param, ip_header)
    without_consent: WithoutConsent = hit.choice("without_consent", WithoutConsent, "block")
    if without_consent == "anonymous" and mode != "forward":
        hit.fail("without_consent", "'anonymous' needs mode = 'forward'")
    url_params, url_query_keys = hit.names("url_params"), hit.names("url_query_keys")
    for index, pattern in enumerate(url_params.patterns):
        if not allowed.covers(pattern):
            hit.fail(f"url_params[{index}]", f"{pattern!r} is not within allowed_params")
    if url_query_keys and not url_params:
        hit.fail("url_query_keys", "needs url_params (the parameters whose query it keeps)")
    advertising_ids = _within_allowed(hit, "advertising_id_params", allowed)
    upstream_query = _within_allowed(hit, "upstream_query_params", allowed)
    if upstream_query and encoding == "query":
        hit.fail("upstream_query_params", "only with encoding = 'json' or 'form'")
    return HitRule(
        mode=mode,
        upstream=upstream,
        method=method,
        encoding=encoding,
        allowed_params=allowed,
        identifier_params=identifiers,
        fixed_params=hit.fixed_params("fixed_params"),
        ip=ip,
        ip_param=ip_param,
        ip_header=ip_header,
        without_consent=without_consent,
        consent_mode=hit.boolean("consent_mode", False),
        paths=_paths(hit),
        bodies=_bodies(hit, mode),
        url_params=url_params,
        url_query_keys=url_query_keys,
        advertising_id_params=advertising_ids,
        upstream_query_params=upstream_query,
        signal_params=_signal_params(hit, allowed, categories),
        email_params=_within_allowed(hit, "email_params", allowed),
        allowed_values=hit.value_lists("allowed_values", within=allowed),
    )


def _within_allowed(hit: RuleTable, key: str, allowed: NameSet) -> NameSet:
    names = hit.names(key)
    for index, pattern in enumerate(names.patterns):
        if not allowed.covers(pattern):
            hit.fail(f"{key}[{index}]", f"{pattern!r} is not within allowed_params")
    return names


def _signal_params(
    hit: RuleTable, allowed: NameSet, categories: tuple[str, ...]
) -> tuple[SignalParam, ...]:
    if not hit.has("signal_params"):
        return ()
    table = hit.table("signal_params", (), open_keys=True)
    params = []
    for name in table.values:
        if not NAME.fullmatch(name) or "*" in name:
            table.fail(name, "expected a parameter name without '*'")
        if name in allowed or name.partition(".")[0] in allowed:
            table.fail(name, "the gateway sets it: remove it from allowed_params")
        entry = table.table(name, ("category", "granted", "denied"))
        category = entry.string("category")
        if category not in categories or category == NECESSARY:
            options = ", ".join(c for c in categories if c != NECESSARY)
            entry.fail("category", f"expected one of {options}; got {category!r}")
        params.append(SignalParam(name, category, entry.string("granted"), entry.string("denied")))
    return tuple(params)


def _paths(hit: RuleTable) -> tuple[str, ...]:
    values = hit.strings("paths")
    for index, path in enumerate(values):
        if not _SUB_PATH.fullmatch(path) or any(s in {".", ".."} for s in path.split("/")):
            problem = (
                f"expected a path such as '/g/collect' (letters, digits, . _ ~ -), got {path!r}"
            )
            hit.fail(f"paths[{index}]", problem)
    if len({p.rstrip("/") for p in values}) != len(values):
        hit.fail("paths", "expected each path only once ('/tr' and '/tr/' are the same path)")
    return tuple(values)


def _bodies(hit: RuleTable, mode: Mode) -> tuple[BodyShape, ...]:
    values = hit.strings("bodies")
    allowed: tuple[str, ...] = get_args(BodyShape)
    for index, shape in enumerate(values):
        if shape not in allowed:
            hit.fail(f"bodies[{index}]", f"expected one of {', '.join(allowed)}; got {shape!r}")
    if len(set(values)) != len(values):
        hit.fail("bodies", "expected each shape only once")
    if {"json", "bulk"} <= set(values):
        hit.fail("bodies", "'json' and 'bulk' are both JSON objects: choose one")
    if {"form", "lines"} <= set(values):
        hit.fail("bodies", "'form' and 'lines' are both urlencoded text: choose one")
    if mode == "redirect" and set(values) - {"form"}:
        hit.fail("bodies", "a redirect carries one hit in its URL: only 'form' fits")
    return cast("tuple[BodyShape, ...]", tuple(values))


def _check_ip(
    hit: RuleTable, mode: Mode, ip: IpHandling, param: str | None, header: str | None
) -> None:
    if mode != "forward" and hit.has("ip"):
        hit.fail("ip", "applies only to mode = 'forward' (a redirect carries the browser's own IP)")
    if ip == "drop":
        if param is not None or header is not None:
            key = "ip_param" if param is not None else "ip_header"
            hit.fail(key, "set only with ip = 'truncate' or 'forward'")
        return
    if (param is None) == (header is None):
        hit.fail("ip", f"ip = {ip!r} needs exactly one of ip_param or ip_header")
    if param is not None and (not NAME.fullmatch(param) or "*" in param):
        hit.fail("ip_param", f"expected a parameter name without '*', got {param!r}")
    if header is not None and not _HEADER.fullmatch(header):
        hit.fail("ip_header", f"expected a header name, got {header!r}")


def _check_url(table: RuleTable, key: str, url: str, *, insecure: bool) -> None:
    schemes = ("https", "http") if insecure else ("https",)
    expected = "an https or http URL" if insecure else "an https URL"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        table.fail(key, f"expected {expected}, got {url!r}")
    if parts.scheme not in schemes or not parts.hostname:
        table.fail(key, f"expected {expected}, got {url!r}")
    if "@" in parts.netloc:
        table.fail(key, f"expected no user name or password in the URL, got {url!r}")
    if "#" in url:
        table.fail(key, f"expected no '#fragment', got {url!r}")
