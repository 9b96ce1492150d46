"""`load_rules`: the shipped `tag_rules/` folder, and one clear line for every mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.errors import RuleError
from gateway.rules import HitRule, NameSet, load_rules

SHIPPED = Path(__file__).resolve().parents[2] / "tag_rules"

BASE = """\
id = "acme"
name = "Acme Analytics"
category = "analytics"
privacy_policy_url = "https://acme.example/privacy"
cookies = ["_acme", "_acme_*"]
processing_locations = ["DE"]

[hit]
mode = "forward"
upstream = "https://collect.acme.example/hit"
allowed_params = ["v", "page", "visitor", "ev.*"]
identifier_params = ["visitor"]
"""


def edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def hit_with(*lines: str) -> str:
    return BASE + "\n".join(lines) + "\n"


def write(folder: Path, text: str, name: str = "acme.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# The shipped rules


EMBEDS = ["openstreetmap", "vimeo", "youtube", "yandex_webvisor"]


def test_shipped_rules_load() -> None:
    everything = load_rules(SHIPPED, categories=DEFAULT_CATEGORIES)
    assert sorted(everything) == sorted(
        [
            "ga4",
            "ga4_app",
            "linkedin_insight",
            "matomo",
            "meta_app",
            "meta_pixel",
            "plausible",
            "recaptcha",
            "vk_ads",
            "vk_retargeting",
            "yandex_metrica",
            *EMBEDS,
        ]
    )
    rules = {k: v for k, v in everything.items() if k not in {"recaptcha", *EMBEDS}}
    for rule_id, rule in rules.items():
        assert rule.id == rule_id
        assert rule.category in {"analytics", "marketing"}
        assert rule.hit.upstream is not None
        assert rule.hit.upstream.startswith("https://")
        assert rule.privacy_policy_url.startswith("https://")
        for pattern in rule.hit.identifier_params.patterns:
            assert rule.hit.allowed_params.covers(pattern), (rule_id, pattern)


def test_shipped_rules_say_what_they_should() -> None:
    rules = load_rules(SHIPPED, categories=DEFAULT_CATEGORIES)
    ga4, matomo, meta = rules["ga4"], rules["matomo"], rules["meta_pixel"]
    linkedin, plausible = rules["linkedin_insight"], rules["plausible"]

    assert ga4.hit.consent_mode
    assert ga4.hit.without_consent == "anonymous"
    assert (ga4.hit.ip, ga4.hit.ip_param) == ("truncate", "_uip")
    assert "_ga_ABC123" in ga4.cookies
    assert ga4.hit.keeps_param("ep.page_type", anonymous=True)
    assert ga4.hit.keeps_param("cid", anonymous=False)
    assert not ga4.hit.keeps_param("cid", anonymous=True)
    for forged in ("gcs", "gcd", "_uip", "uaw"):  # the page must not set these
        assert not ga4.hit.keeps_param(forged, anonymous=False)

    assert dict(matomo.hit.fixed_params) == {"idsite": "1", "rec": "1"}
    assert "_pk_id.1.abcd" in matomo.cookies
    assert not matomo.hit.keeps_param("token_auth", anonymous=False)
    assert not matomo.hit.keeps_param("_id", anonymous=True)

    assert (meta.category, meta.hit.mode, meta.hit.without_consent) == (
        "marketing",
        "redirect",
        "block",
    )
    assert "cd[value]" in meta.hit.allowed_params
    assert "ud[em]" in meta.hit.identifier_params
    assert (linkedin.category, linkedin.hit.mode) == ("marketing", "redirect")
    assert "li_fat_id" in linkedin.cookies

    assert (plausible.hit.method, plausible.hit.encoding) == ("POST", "json")
    assert plausible.hit.without_consent == "anonymous"
    assert not plausible.cookies


def test_the_result_is_read_only(tmp_path: Path) -> None:
    write(tmp_path, BASE)
    rules = load_rules(tmp_path, categories=DEFAULT_CATEGORIES)
    with pytest.raises(TypeError):
        rules["other"] = rules["acme"]  # type: ignore[index]


def test_other_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, BASE)
    write(tmp_path, "# notes", "README.md")
    write(tmp_path, "not toml at all [", ".acme.toml")
    (tmp_path / "sub.toml").mkdir()
    assert list(load_rules(tmp_path, categories=DEFAULT_CATEGORIES)) == ["acme"]


def test_an_empty_folder_has_no_rules(tmp_path: Path) -> None:
    assert load_rules(tmp_path, categories=DEFAULT_CATEGORIES) == {}


def test_defaults(tmp_path: Path) -> None:
    write(tmp_path, BASE)
    hit = load_rules(tmp_path, categories=DEFAULT_CATEGORIES)["acme"].hit
    assert (hit.method, hit.encoding, hit.ip, hit.without_consent) == (
        "GET",
        "query",
        "drop",
        "block",
    )
    assert (hit.fixed_params, hit.consent_mode, hit.ip_param, hit.ip_header) == (
        (),
        False,
        None,
        None,
    )


def test_post_defaults_to_a_form_body(tmp_path: Path) -> None:
    write(tmp_path, hit_with('method = "POST"'))
    assert load_rules(tmp_path, categories=DEFAULT_CATEGORIES)["acme"].hit.encoding == "form"


def test_block_mode_needs_no_upstream(tmp_path: Path) -> None:
    write(
        tmp_path,
        edit('mode = "forward"\nupstream = "https://collect.acme.example/hit"', 'mode = "block"'),
    )
    assert load_rules(tmp_path, categories=DEFAULT_CATEGORIES)["acme"].hit.upstream is None


def test_shipped_embed_vendors_are_never_proxied() -> None:
    rules = load_rules(SHIPPED, categories=DEFAULT_CATEGORIES)
    for rule_id in EMBEDS:
        assert rules[rule_id].hit == HitRule(mode="block"), rule_id
        assert rules[rule_id].category in {"marketing", "preferences"}
        assert not rules[rule_id].disclosure_only


def test_shipped_recaptcha_is_a_disclosed_necessary_vendor() -> None:
    recaptcha = load_rules(SHIPPED, categories=DEFAULT_CATEGORIES)["recaptcha"]
    assert recaptcha.category == "necessary"
    assert recaptcha.disclosure_only
    assert "_GRECAPTCHA" in recaptcha.cookies
    assert recaptcha.privacy_policy_url == "https://policies.google.com/privacy"
    assert recaptcha.terms_url == "https://policies.google.com/terms"
    notice = dict(recaptcha.notice)
    assert notice["en"] == (
        "This site is protected by reCAPTCHA and the Google [Privacy Policy] and"
        " [Terms of Service] apply."
    )
    assert set(notice) == {"en", "ru"}
    assert notice["ru"].count("[") == 2


def test_a_necessary_vendor_needs_no_hit_table(tmp_path: Path) -> None:
    write(tmp_path, BASE.split("[hit]")[0].replace('"analytics"', '"necessary"'))
    rule = load_rules(tmp_path, categories=DEFAULT_CATEGORIES)["acme"]
    assert rule.disclosure_only
    assert rule.hit.mode == "block"


def test_category_from_configured_set(tmp_path: Path) -> None:
    write(tmp_path, edit('category = "analytics"', 'category = "statistics"'))
    rules = load_rules(tmp_path, categories=("necessary", "statistics"))
    assert rules["acme"].category == "statistics"


# https enforcement


def test_plain_http_upstream_needs_the_insecure_flag(tmp_path: Path) -> None:
    path = write(tmp_path, edit("https://collect", "http://collect"))
    with pytest.raises(RuleError) as caught:
        load_rules(tmp_path, categories=DEFAULT_CATEGORIES)
    assert str(caught.value) == (
        f"{path}: hit.upstream: expected an https URL, got 'http://collect.acme.example/hit'"
    )
    rules = load_rules(tmp_path, categories=DEFAULT_CATEGORIES, allow_insecure_upstreams=True)
    assert rules["acme"].hit.upstream == "http://collect.acme.example/hit"


def test_the_insecure_flag_allows_http_only(tmp_path: Path) -> None:
    write(tmp_path, edit("https://collect", "ftp://collect"))
    with pytest.raises(RuleError, match="expected an https or http URL, got 'ftp://"):
        load_rules(tmp_path, categories=DEFAULT_CATEGORIES, allow_insecure_upstreams=True)


def test_the_insecure_flag_does_not_cover_the_privacy_policy(tmp_path: Path) -> None:
    write(tmp_path, edit("https://acme.example/privacy", "http://acme.example/privacy"))
    with pytest.raises(RuleError, match="privacy_policy_url: expected an https URL"):
        load_rules(tmp_path, categories=DEFAULT_CATEGORIES, allow_insecure_upstreams=True)


# Every mistake: one line, naming the file and the exact key

UPSTREAM = 'upstream = "https://collect.acme.example/hit"'
ERRORS = [
    ("syntax", "id = ", "(syntax)", "invalid TOML: "),
    (
        "unknown-top-key",
        edit('id = "acme"', 'id = "acme"\ncolour = "red"'),
        "colour",
        "unknown key",
    ),
    ("unknown-hit-key", edit("upstream =", "upstrem ="), "hit.upstrem", "unknown key"),
    ("missing-name", edit('name = "Acme Analytics"\n', ""), "name", "missing (expected a string)"),
    ("empty-name", edit('name = "Acme Analytics"', 'name = " "'), "name", "non-empty"),
    ("name-integer", edit('name = "Acme Analytics"', "name = 3"), "name", "got integer 3"),
    ("name-boolean", edit('name = "Acme Analytics"', "name = true"), "name", "got boolean true"),
    (
        "name-date",
        edit('name = "Acme Analytics"', "name = 1979-05-27"),
        "name",
        "date/time 1979-05",
    ),
    (
        "name-long-array",
        edit('name = "Acme Analytics"', 'name = ["Acme", "Analytics", "for", "everyone", "here"]'),
        "name",
        "got array ['Acme', 'Analytics', 'for', 'everyo ...",
    ),
    ("id-mismatch", edit('id = "acme"', 'id = "other"'), "id", "expected 'acme' (the file name)"),
    ("id-format", edit('id = "acme"', 'id = "Acme!"'), "id", "lowercase letters"),
    (
        "category-unknown",
        edit('"analytics"', '"stats"'),
        "category",
        "expected one of necessary, preferences",
    ),
    ("necessary-with-hit", edit('"analytics"', '"necessary"'), "hit", "disclosed only"),
    (
        "terms-not-https",
        hit_with().replace("cookies", 'terms_url = "http://a.example/t"\ncookies'),
        "terms_url",
        "an https URL",
    ),
    (
        "notice-without-english",
        BASE.replace("[hit]", '[notice]\nru = "Текст"\n\n[hit]'),
        "notice.en",
        "missing (English",
    ),
    (
        "notice-bad-language",
        BASE.replace("[hit]", '[notice]\nen = "Text"\nEnglish = "x"\n\n[hit]'),
        "notice.English",
        "language code",
    ),
    (
        "notice-three-links",
        BASE.replace("[hit]", '[notice]\nen = "[a] [b] [c]"\n\n[hit]'),
        "notice.en",
        "at most two [link] marks",
    ),
    ("policy-not-url", edit('"https://acme.example/privacy"', '"acme"'), "privacy_policy_url", ""),
    ("cookie-space", edit('"_acme",', '"a b",'), "cookies[0]", "at most one '*' or '#', got 'a b'"),
    ("cookie-two-stars", edit('"_acme_*"', '"_a*b*"'), "cookies[1]", "at most one '*'"),
    ("cookies-not-array", edit('["_acme", "_acme_*"]', '"_acme"'), "cookies", "expected an array"),
    ("hit-missing", BASE.split("[hit]")[0], "hit", "missing (expected a table)"),
    ("hit-not-table", BASE.split("[hit]")[0] + 'hit = "forward"\n', "hit", "expected a table"),
    ("mode-unknown", edit('"forward"', '"proxy"'), "hit.mode", "forward, redirect, block"),
    ("mode-missing", edit('mode = "forward"\n', ""), "hit.mode", "missing"),
    ("upstream-missing", edit(UPSTREAM + "\n", ""), "hit.upstream", "required with mode"),
    ("upstream-userinfo", edit("//collect", "//me:pw@collect"), "hit.upstream", "password"),
    ("upstream-fragment", edit("/hit", "/hit#x"), "hit.upstream", "fragment"),
    ("upstream-query", edit("/hit", "/hit?site=1"), "hit.upstream", "use fixed_params"),
    (
        "upstream-port",
        edit("acme.example/hit", "acme.example:99999/hit"),
        "hit.upstream",
        "an https URL",
    ),
    (
        "upstream-no-host",
        edit("https://collect.acme.example/hit", "https:///hit"),
        "hit.upstream",
        "",
    ),
    ("method-unknown", hit_with('method = "PUT"'), "hit.method", "expected one of GET, POST"),
    ("get-json", hit_with('encoding = "json"'), "hit.encoding", "'query' with method = 'GET'"),
    (
        "redirect-post",
        edit('"forward"', '"redirect"') + 'method = "POST"\n',
        "hit.method",
        "a redirect makes the browser send a GET",
    ),
    ("params-not-strings", edit('"page",', "2,"), "hit.allowed_params[1]", "got integer 2"),
    ("params-bare-star", edit('"page",', '"*",'), "hit.allowed_params[1]", "at most one '*'"),
    ("params-twice", edit('"page",', '"v",'), "hit.allowed_params", "only once"),
    (
        "identifier-outside-allowlist",
        edit('["visitor"]', '["visitor", "uid"]'),
        "hit.identifier_params[1]",
        "'uid' is not within allowed_params",
    ),
    (
        "identifier-wider-than-allowlist",
        edit('["visitor"]', '["ev*"]'),
        "hit.identifier_params[0]",
        "'ev*' is not within",
    ),
    ("ip-unknown", hit_with('ip = "hash"'), "hit.ip", "expected one of drop, truncate, forward"),
    ("ip-nowhere", hit_with('ip = "truncate"'), "hit.ip", "exactly one of ip_param or ip_header"),
    (
        "ip-two-places",
        hit_with('ip = "forward"', 'ip_param = "uip"', 'ip_header = "X-Forwarded-For"'),
        "hit.ip",
        "exactly one",
    ),
    ("ip-param-when-dropped", hit_with('ip_param = "uip"'), "hit.ip_param", "only with ip ="),
    ("ip-header-when-dropped", hit_with('ip_header = "X-Real-IP"'), "hit.ip_header", "only with"),
    ("ip-param-star", hit_with('ip = "truncate"', 'ip_param = "ip*"'), "hit.ip_param", "'*'"),
    ("ip-header-bad", hit_with('ip = "truncate"', 'ip_header = "X Real"'), "hit.ip_header", ""),
    (
        "ip-on-redirect",
        edit('"forward"', '"redirect"') + 'ip = "drop"\n',
        "hit.ip",
        "applies only to mode = 'forward'",
    ),
    (
        "anonymous-redirect",
        edit('"forward"', '"redirect"') + 'without_consent = "anonymous"\n',
        "hit.without_consent",
        "needs mode = 'forward'",
    ),
    ("consent-mode-string", hit_with('consent_mode = "yes"'), "hit.consent_mode", "a boolean"),
    ("fixed-not-table", hit_with('fixed_params = ["rec"]'), "hit.fixed_params", "a table"),
    ("fixed-float", hit_with("fixed_params = { rec = 1.5 }"), "hit.fixed_params.rec", "float 1.5"),
    ("fixed-star", hit_with('fixed_params = { "a*" = "1" }'), "hit.fixed_params.a*", "without"),
    ("hosts-string", edit("cookies =", 'hosts = "acme.example"\ncookies ='), "hosts", "an array"),
    (
        "hosts-url",
        edit("cookies =", 'hosts = ["https://a.example"]\ncookies ='),
        "hosts[0]",
        "host name",
    ),
    ("hosts-upper", edit("cookies =", 'hosts = ["A.example"]\ncookies ='), "hosts[0]", "lowercase"),
    (
        "hosts-inner-star",
        edit("cookies =", 'hosts = ["a.*.example"]\ncookies ='),
        "hosts[0]",
        "host",
    ),
    (
        "hosts-twice",
        edit("cookies =", 'hosts = ["a.example", "a.example"]\ncookies ='),
        "hosts",
        "once",
    ),
    ("paths-not-array", hit_with('paths = "/g/collect"'), "hit.paths", "expected an array"),
    ("paths-integer", hit_with('paths = ["/a", 3]'), "hit.paths[1]", "got integer 3"),
    ("path-relative", hit_with('paths = ["g/collect"]'), "hit.paths[0]", "got 'g/collect'"),
    ("path-dots", hit_with('paths = ["/a/../b"]'), "hit.paths[0]", "such as '/g/collect'"),
    ("path-query", hit_with('paths = ["/a?x=1"]'), "hit.paths[0]", "got '/a?x=1'"),
    ("path-root", hit_with('paths = ["/"]'), "hit.paths[0]", "got '/'"),
    ("paths-twice", hit_with('paths = ["/tr", "/tr/"]'), "hit.paths", "the same path"),
    ("bodies-unknown", hit_with('bodies = ["xml"]'), "hit.bodies[0]", "form, json, lines, bulk"),
    ("bodies-twice", hit_with('bodies = ["json", "json"]'), "hit.bodies", "only once"),
    ("bodies-json-bulk", hit_with('bodies = ["json", "bulk"]'), "hit.bodies", "choose one"),
    ("bodies-form-lines", hit_with('bodies = ["form", "lines"]'), "hit.bodies", "choose one"),
    (
        "bodies-on-redirect",
        edit('"forward"', '"redirect"') + 'bodies = ["lines"]\n',
        "hit.bodies",
        "only 'form' fits",
    ),
    (
        "url-param-outside-allowlist",
        hit_with('url_params = ["page", "dl"]'),
        "hit.url_params[1]",
        "'dl' is not within allowed_params",
    ),
    (
        "url-query-keys-alone",
        hit_with('url_query_keys = ["utm_*"]'),
        "hit.url_query_keys",
        "needs url_params",
    ),
    (
        "url-query-key-bad",
        hit_with('url_params = ["page"]', 'url_query_keys = ["a b"]'),
        "hit.url_query_keys[0]",
        "at most one '*'",
    ),
    ("platform-unknown", edit("cookies =", 'platform = "tv"\ncookies ='), "platform", "web, app"),
    (
        "advertising-id-outside-allowlist",
        hit_with('advertising_id_params = ["idfa"]'),
        "hit.advertising_id_params[0]",
        "'idfa' is not within allowed_params",
    ),
    (
        "upstream-query-outside-allowlist",
        hit_with('method = "POST"', 'encoding = "json"', 'upstream_query_params = ["key"]'),
        "hit.upstream_query_params[0]",
        "'key' is not within",
    ),
    (
        "upstream-query-with-query-encoding",
        hit_with('upstream_query_params = ["v"]'),
        "hit.upstream_query_params",
        "only with encoding = 'json' or 'form'",
    ),
    (
        "signal-param-from-the-client",
        hit_with('signal_params = { v = { category = "marketing", granted = "1", denied = "0" } }'),
        "hit.signal_params.v",
        "remove it from allowed_params",
    ),
    (
        "signal-param-necessary",
        hit_with(
            'signal_params = { ate = { category = "necessary", granted = "1", denied = "0" } }'
        ),
        "hit.signal_params.ate.category",
        "expected one of preferences, analytics, marketing",
    ),
    (
        "signal-param-missing-value",
        hit_with('signal_params = { ate = { category = "marketing", granted = "1" } }'),
        "hit.signal_params.ate.denied",
        "missing",
    ),
    (
        "signal-param-unknown-key",
        hit_with('signal_params = { ate = { category = "marketing", on = "1", denied = "0" } }'),
        "hit.signal_params.ate.on",
        "unknown",
    ),
]


@pytest.mark.parametrize(
    ("text", "key", "fragment"), [pytest.param(*e[1:], id=e[0]) for e in ERRORS]
)
def test_rule_errors_name_file_and_key(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RuleError) as caught:
        load_rules(tmp_path, categories=DEFAULT_CATEGORIES)
    error = caught.value
    assert (error.source, error.key) == (str(path), key)
    assert fragment in error.problem
    assert str(error) == f"{path}: {key}: {error.problem}"
    assert "\n" not in str(error)


def test_shipped_app_rules_say_what_they_should() -> None:
    rules = load_rules(SHIPPED, categories=DEFAULT_CATEGORIES)
    ga4_app, meta_app = rules["ga4_app"], rules["meta_app"]
    assert (ga4_app.platform, meta_app.platform, rules["ga4"].platform) == ("app", "app", "web")
    assert ga4_app.hit.accepts_path("mp/collect")
    assert ga4_app.hit.encoding == "json"
    assert "api_secret" in ga4_app.hit.upstream_query_params
    assert {s.name for s in ga4_app.hit.signal_params} == {
        "consent.ad_user_data",
        "consent.ad_personalization",
    }
    assert not ga4_app.hit.keeps_param("consent", anonymous=False)  # the app's own: dropped
    assert not meta_app.hit.keeps_param("advertiser_id", anonymous=False, advertising=False)
    assert meta_app.hit.keeps_param("advertiser_id", anonymous=False, advertising=True)
    assert not meta_app.hit.keeps_param("advertiser_tracking_enabled", anonymous=False)


def test_hosts_are_kept_as_declared(tmp_path: Path) -> None:
    write(tmp_path, edit("cookies =", 'hosts = ["cdn.acme.example", "*.acme.example"]\ncookies ='))
    rule = load_rules(tmp_path, categories=DEFAULT_CATEGORIES)["acme"]
    assert rule.hosts == ("cdn.acme.example", "*.acme.example")
    write(tmp_path, BASE)
    assert load_rules(tmp_path, categories=DEFAULT_CATEGORIES)["acme"].hosts == ()


def test_integer_fixed_params_become_strings(tmp_path: Path) -> None:
    write(tmp_path, hit_with('fixed_params = { rec = 1, site = "a" }'))
    hit = load_rules(tmp_path, categories=DEFAULT_CATEGORIES)["acme"].hit
    assert hit.fixed_params == (("rec", "1"), ("site", "a"))


def test_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(RuleError) as caught:
        load_rules(missing, categories=DEFAULT_CATEGORIES)
    assert str(caught.value) == f"{missing}: (folder): expected a directory of vendor rule files"


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_bytes(b'name = "\xff"\n')
    with pytest.raises(RuleError, match=r"acme\.toml: \(syntax\): expected UTF-8 text"):
        load_rules(tmp_path, categories=DEFAULT_CATEGORIES)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads any file whatever its mode, so the refusal is staged at `open`.
    path = write(tmp_path, BASE)
    real_open = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(RuleError) as caught:
        load_rules(tmp_path, categories=DEFAULT_CATEGORIES)
    assert str(caught.value) == f"{path}: (file): cannot read: Permission denied"


def test_first_bad_file_in_name_order_is_reported(tmp_path: Path) -> None:
    write(tmp_path, BASE)
    bad = write(tmp_path, BASE.replace('"acme"', '"zeta"').replace("forward", "bogus"), "zeta.toml")
    with pytest.raises(RuleError) as caught:
        load_rules(tmp_path, categories=DEFAULT_CATEGORIES)
    assert caught.value.source == str(bad)


# The model's helpers


@pytest.mark.parametrize(
    ("name", "inside"),
    [
        ("v", True),
        ("ep.page", True),
        ("ep.", False),  # the wildcard stands for at least one character
        ("cd[value]", True),
        ("cd[]", False),
        ("xcd[value]", False),
        ("vv", False),
        (3, False),
    ],
)
def test_name_set_membership(name: object, inside: bool) -> None:
    assert (name in NameSet(("v", "ep.*", "cd[*]"))) is inside


@pytest.mark.parametrize(
    ("pattern", "covered"),
    [
        ("ep.x", True),
        ("ep.*", True),
        ("ep.a*", True),
        ("ep*", False),
        ("ud[*]", False),
        ("x", False),
    ],
)
def test_name_set_covers(pattern: str, covered: bool) -> None:
    assert NameSet(("ep.*", "ud[em]")).covers(pattern) is covered


def test_anonymous_pings_never_carry_a_full_ip() -> None:
    hit = HitRule(mode="forward", upstream="https://x.example/", ip="forward", ip_param="uip")
    assert hit.ip_handling(anonymous=False) == "forward"
    assert hit.ip_handling(anonymous=True) == "truncate"
    truncated = HitRule(mode="forward", upstream="https://x.example/", ip="truncate", ip_param="u")
    assert truncated.ip_handling(anonymous=True) == "truncate"
    assert HitRule(mode="forward").ip_handling(anonymous=True) == "drop"
