"""The hits in a POST body, read the way the rule says the vendor's own client writes them.

Pure: bytes in, parameter lists out, or `UnreadableBody` (a 4xx with a short reason code that
the endpoint counts). A body the rule cannot read is refused whole — the gateway never forwards
a hit it half understood.

======  ==========================================  ==========================================
shape   what the client sends                       hits
======  ==========================================  ==========================================
form    `a=1&b=2` (Meta pixel POST form)            one
json    `{"n": "pageview", ...}`, whatever the      one (Plausible trackers send text/plain)
        Content-Type claims
lines   `en=page_view&_et=1\\nen=scroll` (GA4)       one per non-empty line
bulk    `{"requests": ["?idsite=1&...", ...]}`      one per request (Matomo bulk tracking)
======  ==========================================  ==========================================

Every hit also carries the request's own query string (gtag puts the shared parameters there
and the per-event ones in the body lines).

>>> hit = HitRule(mode="forward", upstream="https://a.example", bodies=("lines",),
...               allowed_params=NameSet(("v", "en")))
>>> hits_in_body(hit, [("v", "2")], b"en=a\\nen=b\\n")
[[('v', '2'), ('en', 'a')], [('v', '2'), ('en', 'b')]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from gateway.errors import BadRequest, PayloadTooLarge
from gateway.rules.model import HitRule
from gateway.rules.name_sets import NameSet  # noqa: F401 -- NameSet: for the doctest
from gateway.strict_json import parse_json
from gateway.tracking.hits import parse_query

MAX_HITS_PER_BODY = 50
Params = list[tuple[str, Any]]


class UnreadableBody(BadRequest):
    """A POST body the rule cannot read; `reason` is a stable code for the counter."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class TooManyHits(PayloadTooLarge):
    reason: ClassVar[str] = "too_many_hits"


class HitTooLarge(PayloadTooLarge):
    """A shaped hit over `hit_max_bytes`, or a request's hits over `hit_request_max_bytes`
    together (a batch's query string is copied into each of its hits)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def hits_in_body(hit: HitRule, query: Sequence[tuple[str, Any]], body: bytes) -> list[Params]:
    """The parameter lists of the hits in `body` (each prefixed by `query`)."""
    if not body.strip():
        return [list(query)]
    shapes = hit.bodies
    if not shapes:
        raise UnreadableBody("no_body_shape", "this vendor takes its hit in the query string")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableBody("not_utf8", "the hit body is not UTF-8 text") from None
    if not text.strip():  # Unicode whitespace and separators only ("\x1c"): an empty body
        return [list(query)]
    looks_json = text.lstrip().startswith(("{", "["))
    if looks_json and ("json" in shapes or "bulk" in shapes):
        document = _json_object(text)
        if "bulk" in shapes:
            events = [parse_query(request) for request in _bulk_requests(document)]
        else:
            events = [list(document.items())]
    elif "form" in shapes and not looks_json:
        events = [parse_query(text.strip())]
    elif "lines" in shapes and not looks_json:
        events = [parse_query(line.strip()) for line in text.splitlines() if line.strip()]
    else:
        expected = " or ".join(shapes)
        raise UnreadableBody("wrong_shape", f"this vendor's hit body is {expected}")
    if len(events) > MAX_HITS_PER_BODY:
        raise TooManyHits(f"at most {MAX_HITS_PER_BODY} hits in one body")
    for event in events:
        if not any(hit.keeps_param(name, anonymous=False) for name, _ in event):
            raise UnreadableBody(
                "nothing_allowed", "a hit in the body holds no parameter this vendor takes"
            )
        for name, value in event:  # a URL the rule cannot read as one is never sent raw
            if name in hit.url_params and not isinstance(value, str | None):
                raise UnreadableBody("wrong_shape", f"{name!r} must be a URL as text (or null)")
    return [[*query, *event] for event in events]


def _json_object(text: str) -> dict[str, Any]:
    try:
        document = parse_json(text.encode(), "the hit body")  # the one strict JSON reader
    except BadRequest as error:
        raise UnreadableBody("bad_json", error.detail) from None
    if not isinstance(document, dict):
        raise UnreadableBody("bad_json", "a JSON hit body must be an object")
    return document


def _bulk_requests(document: dict[str, Any]) -> list[str]:
    requests = document.get("requests")
    if not isinstance(requests, list) or not requests:
        raise UnreadableBody("bad_bulk", 'expected {"requests": ["?a=1&b=2", ...]}')
    if len(requests) > MAX_HITS_PER_BODY:
        raise TooManyHits(f"at most {MAX_HITS_PER_BODY} hits in one body")
    queries = []
    for request in requests:
        if not isinstance(request, str) or "?" not in request:
            raise UnreadableBody("bad_bulk", 'each bulk request is a string "?a=1&b=2"')
        queries.append(request.partition("?")[2])
    return queries
