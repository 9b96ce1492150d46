"""Vendor tag rules: what one `tag_rules/{vendor}.toml` file says, as frozen values.

A rule names a vendor, the one consent category it belongs to, the cookies it sets and how
the gateway handles a hit sent to `/t/{vendor}`::

    id = "ga4"                       # must equal the file name without `.toml`
    name = "Google Analytics 4"
    category = "analytics"           # one configured category, never "necessary"
    privacy_policy_url = "https://policies.google.com/privacy"
    description = "Site statistics." # optional, shown in the banner
    cookies = ["_ga", "_ga_*"]       # deleted by the banner on withdrawal
    hosts = ["*.google-analytics.com"]  # optional: where its own tags load from (audit)
    storage = ["_ga_*"]              # optional: its localStorage/sessionStorage keys (audit)
    platform = "web"                 # web (default) | app: sent by mobile apps, not in the banner
    processing_locations = ["US"]    # required: ISO countries where the vendor processes data
    transfer_safeguard = "dpf"       # for those outside GATEWAY_HOME_REGION (or a table by country)
    descriptions = { ru = "..." }    # optional: `description` in other languages

    [hit]
    mode = "forward"                 # forward | redirect | block
    upstream = "https://www.google-analytics.com/g/collect"
    method = "POST"                  # GET (default) | POST; forward only
    encoding = "query"               # query | form | json; GET: query, POST default: form
    allowed_params = ["v", "tid", "cid", "ep.*"]   # allowlist; anything else is dropped
    identifier_params = ["cid"]      # removed on an anonymous ping; within allowed_params
    fixed_params = { v = "2" }       # always sent, overriding what the client sent
    ip = "truncate"                  # drop (default) | truncate | forward; forward mode only
    ip_param = "_uip"                # where the IP goes: a parameter ...
    # ip_header = "X-Forwarded-For"  # ... or a request header (exactly one when ip != drop)
    without_consent = "block"        # block (default) | anonymous; forward mode only
    consent_mode = true              # Google consent mode: the gateway adds gcs/gcd
    paths = ["/g/collect"]           # sub-paths the vendor's own client appends to /t/{vendor}
    bodies = ["lines"]               # POST body shapes: form | json | lines | bulk
    url_params = ["dl", "dr"]        # URL-valued: query and fragment dropped when anonymous ...
    url_query_keys = ["utm_*"]       # ... except these query keys
    advertising_id_params = ["advertiser_id"]  # IDFA/GAID: only when marketing is signalled
    email_params = ["ud[em]"]        # may carry an e-mail address (consented hits only)
    allowed_values = { tid = ["G-XXXXXXXXXX"] }  # a hit naming another property is blocked
    upstream_query_params = ["api_secret"]     # json/form: these go in the upstream URL query
    # Set by the gateway from the decision (the client's own values never pass):
    signal_params = { advertiser_tracking_enabled = { category = "marketing", granted = "1", denied = "0" } }

A vendor that needs no consent (reCAPTCHA protecting forms) is declared with
`category = "necessary"` and no `[hit]` table: it is disclosed in the banner (purpose, cookies,
policy links, an optional `notice` per language) and never blocked; `/t/{id}` does not exist
for it. An embed vendor (YouTube, a map) is an ordinary rule with `mode = "block"`: nothing is
proxied, the banner loads the embed itself once the vendor is allowed.

Parameter and cookie names may hold one `*`, matching one or more characters: `ep.*`,
`cd[*]`, `_pk_id.*`, or one `#`, matching one or more digits: `pr#` is `pr1`, `pr200`, never
`prEmail`. `gateway.rules.loader.load_rules` builds these values from the files and
rejects anything else; `tag_rules/README.md` is the reference for users.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote_plus

from gateway.consent.model import NECESSARY
from gateway.rules.name_sets import MEMO_NAME_LENGTH, MEMO_NAMES, NameSet

Mode = Literal["forward", "redirect", "block"]
# Who sends the hits: a web page (listed in the banner) or an app (its own consent screen).
Platform = Literal["web", "app"]
Method = Literal["GET", "POST"]
Encoding = Literal["query", "form", "json"]
IpHandling = Literal["drop", "truncate", "forward"]
WithoutConsent = Literal["block", "anonymous"]
# How a POST body holds hits: `form` one urlencoded hit; `json` one JSON object, whatever the
# Content-Type says; `lines` one urlencoded hit a line (GA4 batches); `bulk` Matomo's
# `{"requests": ["?a=1", ...]}`, one hit per request string.
BodyShape = Literal["form", "json", "lines", "bulk"]
NO_NAMES = NameSet()  # the default of every name set a rule leaves out


@dataclass(frozen=True, slots=True)
class SignalParam:
    """A parameter the gateway writes from the decision: `granted` when `category` may be
    signalled to the vendor, else `denied`. In a JSON body a dotted name nests
    (`consent.ad_user_data` → `{"consent": {"ad_user_data": …}}`)."""

    name: str
    category: str
    granted: str
    denied: str

    def value(self, signalled: frozenset[str]) -> str:
        return self.granted if self.category in signalled else self.denied


@dataclass(frozen=True, slots=True)
class HitRule:
    """How a hit to `/t/{vendor}` is handled once `gateway.decision.decide` allows it."""

    mode: Mode
    upstream: str | None = None
    method: Method = "GET"
    encoding: Encoding = "query"
    allowed_params: NameSet = NO_NAMES
    identifier_params: NameSet = NO_NAMES
    fixed_params: tuple[tuple[str, str], ...] = ()
    ip: IpHandling = "drop"
    ip_param: str | None = None
    ip_header: str | None = None
    without_consent: WithoutConsent = "block"
    consent_mode: bool = False
    paths: tuple[str, ...] = ()  # each starts with "/"; all map onto `upstream`
    bodies: tuple[BodyShape, ...] = ()  # none: a POST carries its hit in the query string
    url_params: NameSet = NO_NAMES
    url_query_keys: NameSet = NO_NAMES
    # Mobile advertising identifiers (IDFA, GAID, AAID, a vendor's `advertiser_id`): identifiers
    # that also need `marketing` to be signalled, whatever the rule's own category.
    advertising_id_params: NameSet = NO_NAMES
    upstream_query_params: NameSet = NO_NAMES  # json/form hits: sent in the upstream's query
    signal_params: tuple[SignalParam, ...] = ()
    # Parameters whose protocol carries an e-mail address by design (Meta's hashed `ud[em]`):
    # left as sent on a consented hit; everywhere else an address is `[email]`.
    email_params: NameSet = NO_NAMES
    # Parameter → the only values a hit may carry in it (the operator's properties): a hit
    # naming another property is blocked, so the gateway is nobody's open relay.
    allowed_values: tuple[tuple[str, frozenset[str]], ...] = ()
    # What `passes` found per name, bounded like a `NameSet`'s memo.
    _passes: dict[str, tuple[bool, bool, bool]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def accepts_path(self, sub_path: str) -> bool:
        """Whether `/t/{vendor}/{sub_path}` is a path the vendor's client appends.

        A trailing slash never matters: `/tr` and `/tr/` are one path, and `/t/x/` is `/t/x`.
        """
        wanted = "/" + sub_path.strip("/")
        return wanted == "/" or any(wanted == path.rstrip("/") for path in self.paths)

    def keeps_param(self, name: str, *, anonymous: bool, advertising: bool = False) -> bool:
        """Whether a client-sent parameter passes: allowlisted, no identifier if anonymous, and
        no advertising identifier unless `advertising` (marketing is signalled)."""
        if name not in self.allowed_params:
            return False
        if name in self.advertising_id_params:
            return advertising and not anonymous
        return not (anonymous and name in self.identifier_params)

    def passes(self, name: str) -> tuple[bool, bool, bool]:
        """Whether a client-sent parameter is kept on a consented hit, on one with marketing
        signalled, and on an anonymous ping (`keeps_param` of each); never one the rule fixes.
        The edge asks for every parameter of every hit: the answer is remembered."""
        found = self._passes.get(name)
        if found is None:
            fixed = any(name == key for key, _ in self.fixed_params)
            found = (
                not fixed and self.keeps_param(name, anonymous=False),
                not fixed and self.keeps_param(name, anonymous=False, advertising=True),
                not fixed and self.keeps_param(name, anonymous=True),
            )
            if len(self._passes) < MEMO_NAMES and len(name) <= MEMO_NAME_LENGTH:
                self._passes[name] = found
        return found

    def pins(self, params: Sequence[tuple[str, object]]) -> bool:
        """Whether every pinned parameter of a hit holds one of its allowed values (a value
        still percent-encoded is compared decoded)."""
        for name, allowed in self.allowed_values:
            for key, value in params:
                if key == name and unquote_plus(str(value)) not in allowed:
                    return False
        return True

    def ip_handling(self, *, anonymous: bool) -> IpHandling:
        """The IP treatment for this hit: an anonymous ping never carries a full address."""
        if anonymous and self.ip == "forward":
            return "truncate"
        return self.ip


@dataclass(frozen=True, slots=True)
class ScriptRule:
    """A loader script the gateway serves from its own origin at `/t/{vendor}{path}`, fetched
    server-side from `upstream` (declared here, https only) with only `params` passed on::

        [scripts."/gtag/js"]
        upstream = "https://www.googletagmanager.com/gtag/js"
        params = ["id", "l"]
        allowed_values = { id = ["G-XXXXXXXXXX"] }

    >>> script = ScriptRule("/gtag/js", "https://x.test/gtag/js", ("id",), (("id", frozenset({"G-1"})),))
    >>> script.refused({"id": "G-1"}), script.refused({"id": "G-2"}), script.refused({})
    (None, 'id', 'id')
    """

    path: str
    upstream: str
    params: tuple[str, ...] = ()
    # `allowed_values = { id = ["G-…"] }`: the only values a pinned parameter may hold (and it
    # must be present), so the gateway fetches and caches only this site's own loader scripts.
    allowed_values: tuple[tuple[str, frozenset[str]], ...] = ()

    def refused(self, query: Mapping[str, str]) -> str | None:
        """The first pinned parameter `query` lacks or holds another value of; None if served."""
        for name, allowed in self.allowed_values:
            if query.get(name) not in allowed:
                return name
        return None


@dataclass(frozen=True, slots=True)
class Rule:
    """One vendor, as declared by `tag_rules/{id}.toml`."""

    id: str
    name: str
    category: str
    privacy_policy_url: str
    hit: HitRule
    cookies: NameSet = NO_NAMES
    description: str = ""
    terms_url: str = ""  # the vendor's terms, linked in the banner (and by `[…]` in a notice)
    # Language → text a site shows about the vendor (e.g. reCAPTCHA's attribution when its
    # badge is hidden); `[Privacy Policy]`, `[Terms of Service]` mark the policy and terms links.
    notice: tuple[tuple[str, str], ...] = ()
    # Hosts the vendor's own scripts, pixels and beacons load from (`*.` matches any
    # subdomain); `consent-gateway audit` flags a request to one before consent.
    hosts: tuple[str, ...] = ()
    platform: Platform = "web"  # "app": hits come from mobile apps; the web banner omits it
    # ISO 3166-1 alpha-2 countries the vendor processes data in, and country → safeguard for
    # those outside the operator's home region (`gateway.rules.transfers`).
    processing_locations: tuple[str, ...] = ()
    transfer_safeguards: tuple[tuple[str, str], ...] = ()
    descriptions: tuple[
        tuple[str, str], ...
    ] = ()  # language → description; English is `description`

    # localStorage/sessionStorage keys its scripts write (`*` as in cookies); the audit judges
    # them as it judges cookies.
    storage: NameSet = NO_NAMES
    scripts: tuple[ScriptRule, ...] = ()  # loader scripts served first-party (`[scripts]`)

    @property
    def disclosure_only(self) -> bool:
        """A `necessary` vendor: listed in the banner, never blocked, no `/t` hits."""
        return self.category == NECESSARY
