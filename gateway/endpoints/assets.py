"""The banner's script and stylesheet as hot routes (`HotRoute`): every page view asks for
them, so their answers are built once per outcome — at most four per asset (gzip or not ×
modified or not), keyed by what the request's headers decide, never by the raw header text.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import Scope

from gateway.banner.routes import StaticAsset, accepts_gzip, etag_matches
from gateway.endpoints.answers import Answer, raw_headers
from gateway.endpoints.hot import HotRoute, Immediate


def asset_routes(assets: Mapping[str, StaticAsset]) -> list[HotRoute]:
    """A hot route per asset path (`/consent.js`, `/consent.css`, …)."""
    return [HotRoute.at_once(path, _serve(asset)) for path, asset in assets.items()]


def _serve(asset: StaticAsset) -> Immediate:
    answers: dict[tuple[bool, bool], Answer] = {}
    for gzipped in (False, True):
        etag = asset.gzip_etag if gzipped else asset.etag
        for modified in (False, True):
            # The same answer `StaticAsset.answer` gives for such a request.
            status, named, body = asset.answer("gzip" if gzipped else "", "" if modified else etag)
            answers[gzipped, modified] = (
                status,
                raw_headers(named, body if status == 200 else None),
                body,
            )

    def serve(scope: Scope, rest: str) -> Answer:
        accept_encoding = if_none_match = b""
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept_encoding = accept_encoding or value
            elif name == b"if-none-match":
                if_none_match = if_none_match or value
        gzipped = served_gzipped(accept_encoding)
        if not if_none_match:  # a first visit: nothing to compare
            return answers[gzipped, True]
        etag = asset.gzip_etag if gzipped else asset.etag
        return answers[gzipped, not etag_matches(if_none_match.decode("latin-1"), etag)]

    return serve


# What browsers send, answered without a parse: a fixed table, not a cache of what clients sent.
BROWSER_ENCODINGS: dict[bytes, bool] = {
    b"gzip, deflate, br, zstd": True,  # Chrome, Edge
    b"gzip, deflate, br": True,  # Firefox, Safari
    b"gzip, deflate": True,
    b"gzip": True,
    b"": False,
}


def served_gzipped(accept_encoding: bytes) -> bool:
    """`accepts_gzip`: the browsers' spellings from a table, other ones without q-values read
    in one split, the rest parsed."""
    known = BROWSER_ENCODINGS.get(accept_encoding)
    if known is not None:
        return known
    if b";" in accept_encoding:
        return accepts_gzip(accept_encoding.decode("latin-1"))
    named = {coding.strip().lower() for coding in accept_encoding.split(b",")}
    return not named.isdisjoint((b"gzip", b"x-gzip", b"*"))
