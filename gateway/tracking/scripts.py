"""Vendor loader scripts served from the gateway's own origin (`[scripts]` of a tag rule).

`GET /t/ga4/gtag/js?id=G-…` is fetched server-side from the rule's upstream — a URL declared in
the rule, https only, never chosen by the request — with only the rule's `params` (values of
at most 64 letters, digits or `._-`), no cookie, no visitor address, no browser headers. So the
browser makes no request to the vendor before consent, and the vendor sees only the gateway.

Bounded: a body over `MAX_SCRIPT_BYTES` is refused; at most `MAX_ENTRIES` scripts and
`MAX_CACHE_BYTES` in all are cached, the least recently used evicted first. A script is kept as
long as the vendor's `Cache-Control: max-age` (or `s-maxage`) says (`no-store`/`no-cache`:
not kept), at most `MAX_TTL_SECONDS`; when the vendor cannot be reached, a copy up to
`STALE_SECONDS` old is served instead. Fetches, cache hits, failures and evictions are counted.

    >>> freshness({"cache-control": "private, max-age=900"})
    900.0
    >>> freshness({"cache-control": "no-store"}), freshness({})
    (0.0, 0.0)
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from gateway.errors import UpstreamError
from gateway.rules.model import ScriptRule

MAX_SCRIPT_BYTES = 2 * 1024 * 1024
MAX_ENTRIES = 64
MAX_CACHE_BYTES = 32 * 1024 * 1024
MAX_TTL_SECONDS = 86400.0
STALE_SECONDS = 86400.0
FETCH_TIMEOUT_SECONDS = 5.0
SCRIPT_VALUE = r"^[A-Za-z0-9._-]{1,64}$"  # a parameter value passed upstream
_VALUE = re.compile(SCRIPT_VALUE)
_MAX_AGE = re.compile(r"(?:^|,)\s*(s-maxage|max-age)\s*=\s*\"?(\d{1,10})")
_JAVASCRIPT = "application/javascript; charset=utf-8"
Count = Callable[[str, str], None]  # (vendor, outcome) → counted


class ScriptUnavailable(UpstreamError):
    """The vendor did not deliver the script (and no earlier copy may stand in)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status  # 404: the vendor has no such script; 502: it failed


@dataclass(frozen=True, slots=True)
class Script:
    body: bytes
    fetched_at: float
    ttl: float

    def max_age(self, now: float) -> int:
        """Seconds a browser may keep it: what is left of the vendor's freshness."""
        return max(0, int(self.fetched_at + self.ttl - now))


def freshness(headers: Mapping[str, str]) -> float:
    """Seconds the vendor lets a cache keep its answer (0: not at all)."""
    control = headers.get("cache-control", "").lower()
    if "no-store" in control or "no-cache" in control:
        return 0.0
    ages = {name: float(value) for name, value in _MAX_AGE.findall(control)}
    return min(ages.get("s-maxage", ages.get("max-age", 0.0)), MAX_TTL_SECONDS)


def script_query(script: ScriptRule, query: Mapping[str, str]) -> str | None:
    """The query passed upstream (the declared params only, sorted); None if a value is bad."""
    passed = []
    for name in script.params:
        value = query.get(name)
        if value is None:
            continue
        if not _VALUE.fullmatch(value):
            return None
        passed.append((name, value))
    return urlencode(passed)


class FirstPartyScripts:
    """The cache and fetcher of every rule's loader scripts."""

    def __init__(
        self,
        count: Count,
        clock: Callable[[], float] = time.time,
        *,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_CACHE_BYTES,
    ) -> None:
        self.count = count
        self.clock = clock
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._cache: OrderedDict[str, Script] = OrderedDict()
        self._bytes = 0
        self._inflight: dict[str, asyncio.Future[Script]] = {}
        self._client: httpx.AsyncClient | None = None

    async def get(self, vendor: str, script: ScriptRule, query: str) -> Script:
        """The script for `query` (from `script_query`); raises `ScriptUnavailable`."""
        url = f"{script.upstream}?{query}" if query else script.upstream
        now = self.clock()
        cached = self._cache.get(url)
        if cached is not None and now - cached.fetched_at < cached.ttl:
            self._cache.move_to_end(url)
            self.count(vendor, "cached")
            return cached
        pending = self._inflight.get(url)
        if pending is not None:  # one fetch per script however many visitors ask at once
            return await asyncio.shield(pending)
        future: asyncio.Future[Script] = asyncio.get_running_loop().create_future()
        self._inflight[url] = future
        try:
            fetched = await self._fetch(vendor, url, cached)
            future.set_result(fetched)
            return fetched
        except ScriptUnavailable as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiting visitors get it; none waiting is fine
            raise
        finally:
            del self._inflight[url]

    async def _fetch(self, vendor: str, url: str, stale: Script | None) -> Script:
        try:
            body, ttl, status = await self._download(url)
        except (httpx.HTTPError, ScriptUnavailable):
            body, ttl, status = b"", 0.0, 502
        now = self.clock()
        if status != 200:
            if stale is not None and now - stale.fetched_at < STALE_SECONDS and status != 404:
                self.count(vendor, "stale")
                return stale
            self.count(vendor, "failed")
            raise ScriptUnavailable(404 if status == 404 else 502)
        self.count(vendor, "fetched")
        script = Script(body, now, ttl)
        self._store(vendor, url, script)
        return script

    async def _download(self, url: str) -> tuple[bytes, float, int]:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=FETCH_TIMEOUT_SECONDS,
                follow_redirects=False,
                trust_env=False,
                headers={"User-Agent": "consent-gateway (first-party script cache)"},
            )
        async with self._client.stream("GET", url) as response:
            if response.status_code != 200:
                return b"", 0.0, response.status_code
            kind = response.headers.get("content-type", "").lower()
            if "javascript" not in kind and "ecmascript" not in kind:
                return b"", 0.0, 502  # never relay a page or an error as a script
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_SCRIPT_BYTES:
                    raise ScriptUnavailable(502)
                chunks.append(chunk)
            return b"".join(chunks), freshness(response.headers), 200

    def _store(self, vendor: str, url: str, script: Script) -> None:
        old = self._cache.pop(url, None)
        if old is not None:
            self._bytes -= len(old.body)
        if script.ttl <= 0:
            return
        self._cache[url] = script
        self._bytes += len(script.body)
        while len(self._cache) > self.max_entries or self._bytes > self.max_bytes:
            _, evicted = self._cache.popitem(last=False)
            self._bytes -= len(evicted.body)
            self.count(vendor, "evicted")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


CONTENT_TYPE = _JAVASCRIPT
