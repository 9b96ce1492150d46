"""What a visit leaves behind, recorded from browser events: requests, cookies, storage keys.

The `Recorder` is fed plain callbacks (Playwright request/response events, Chrome DevTools
`Network.*` events, and writes reported by `WRITE_SPY`), so the CLI's async browser and the
pytest plugin's sync one share it; each calls `finish_page` with a snapshot of the cookie jar
and storage keys when a page is done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from gateway.audit.states import ConsentState

# Runs before any page script: reports `document.cookie` writes and `Storage.setItem` calls
# with the URL of the script that made them (the first http(s) frame of the stack).
WRITE_SPY = r"""
(() => {
  const report = (...a) => { try { window.__cgAuditWrite(...a); } catch (e) {} };
  const origin = () => {
    for (const line of (new Error().stack || "").split("\n").slice(2)) {
      const m = line.match(/(https?:\/\/[^\s()]+?):\d+:\d+/);
      if (m) return m[1];
    }
    return location.href;
  };
  const d = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (d && d.set) {
    Object.defineProperty(Document.prototype, "cookie", {
      configurable: true, enumerable: d.enumerable,
      get() { return d.get.call(this); },
      set(v) { report("cookie", String(v).split("=")[0].trim(), origin(), location.href);
        d.set.call(this, v); },
    });
  }
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (k, v) {
    let area = "sessionStorage";
    try { if (this === window.localStorage) area = "localStorage"; } catch (e) {}
    report(area, String(k), origin(), location.href);
    return setItem.call(this, k, v);
  };
})();
"""
# Each storage area's [key, value] pairs (values are kept only with `--show-values`).
STORAGE_ENTRIES = (
    "() => { const entries = (name) => { try { const s = window[name];"
    " return Object.keys(s).map((k) => [k, String(s.getItem(k))]); } catch (e) { return []; } };"
    " return {localStorage: entries('localStorage'), sessionStorage: entries('sessionStorage')}; }"
)


@dataclass(slots=True)
class RequestRecord:
    """One request the browser made (redirect hops are requests of their own)."""

    url: str
    host: str
    path: str
    method: str
    kind: str  # Playwright's resource type: document, script, image, fetch, ...
    initiator: str  # the script or document that caused it, as Chrome reports it
    frame: str
    decision: str = ""  # X-Consent-Decision, on the gateway's /t answers


@dataclass(slots=True)
class CookieRecord:
    """A cookie in the jar, where it was first seen, and what set it."""

    name: str
    domain: str
    path: str
    expires: float  # unix seconds; -1 for a session cookie
    secure: bool
    http_only: bool
    same_site: str
    set_by: str  # a response URL (header) or script URL (script); "" when not seen
    via: str  # header | script | unknown
    page: str
    value: str = ""  # only with --show-values: a cookie often is a secret (a session)


@dataclass(slots=True)
class StorageRecord:
    area: str  # localStorage | sessionStorage
    key: str
    origin: str
    set_by: str
    page: str
    value: str = ""  # only with --show-values


@dataclass(slots=True)
class PageVisit:
    """One page of one state: what happened between arriving (or choosing) and settling."""

    url: str
    status: int | None = None
    requests: list[RequestRecord] = field(default_factory=list)
    cookies: list[CookieRecord] = field(default_factory=list)  # new in the jar on this page
    storage: list[StorageRecord] = field(default_factory=list)
    error: str = ""  # the page did not load: nothing of it was judged
    note: str = ""  # e.g. it redirected to another site, where the crawl of it ended


@dataclass(slots=True)
class StateRun:
    """One consent state's visit: its pages, the banner as the choice was made, any failure."""

    state: ConsentState
    pages: list[PageVisit] = field(default_factory=list)
    banner_png: bytes = b""
    error: str = ""


@dataclass(slots=True)
class AuditRun:
    """A whole audit: every state's run, and the banner config the site served."""

    url: str
    started: float
    finished: float = 0.0
    browser: str = ""
    banner_script: str = ""
    banner: dict[str, Any] | None = None
    runs: list[StateRun] = field(default_factory=list)
    show_values: bool = False  # cookie and storage values were recorded


class Recorder:
    """Collects one browser context's events into `PageVisit`s, one page at a time."""

    def __init__(self, show_values: bool = False) -> None:
        self.show_values = show_values
        self.visit = PageVisit("")
        self.inflight: set[Any] = set()
        self.last_activity = time.monotonic()
        self.banner_script = ""  # the URL of the first /consent.js loaded
        self.banner_response: Any = None  # its response, to read the config it embeds
        self._initiators: dict[str, str] = {}
        self._header_cookies: dict[str, str] = {}  # cookie name -> response URL
        self._script_writes: dict[tuple[str, str], str] = {}  # (area, key) -> script URL
        self._cdp_urls: dict[str, str] = {}
        self._seen_cookies: set[tuple[str, str, str]] = set()
        self._seen_storage: set[tuple[str, str, str]] = set()

    # Playwright events

    def on_request(self, request: Any) -> None:
        self.inflight.add(request)
        self.last_activity = time.monotonic()
        url = request.url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return
        if not self.banner_script and parts.path.endswith("/consent.js"):
            self.banner_script = url
        try:
            frame = request.frame.url
        except Exception:  # service-worker requests have no frame
            frame = ""
        self.visit.requests.append(
            RequestRecord(
                url, parts.hostname or "", parts.path, request.method, request.resource_type,
                "", frame,
            )
        )  # fmt: skip

    def on_done(self, request: Any) -> None:
        self.inflight.discard(request)
        self.last_activity = time.monotonic()

    def on_response(self, response: Any) -> None:
        if self.banner_response is None and response.url == self.banner_script:
            self.banner_response = response
        decision = response.headers.get("x-consent-decision")
        if not decision:
            return
        for record in reversed(self.visit.requests):
            if record.url == response.url and not record.decision:
                record.decision = decision
                return

    # Chrome DevTools Protocol events (the initiator and raw Set-Cookie headers)

    def on_cdp_request(self, params: dict[str, Any]) -> None:
        url = params.get("request", {}).get("url", "")
        self._cdp_urls[params.get("requestId", "")] = url
        self._initiators.setdefault(url, _initiator(params.get("initiator") or {}))

    def on_cdp_response_headers(self, params: dict[str, Any]) -> None:
        url = self._cdp_urls.get(params.get("requestId", ""), "")
        headers = {k.lower(): v for k, v in (params.get("headers") or {}).items()}
        for line in str(headers.get("set-cookie", "")).split("\n"):
            name = line.split("=", 1)[0].strip()
            if name and "=" in line:
                self._header_cookies.setdefault(name, url)

    # The page's own reports (WRITE_SPY)

    def on_write(self, area: str, key: str, script: str, page: str) -> None:
        self._script_writes.setdefault((area, key), script)

    # Page boundaries

    def begin(self, url: str) -> None:
        self.visit = PageVisit(url)

    def ignore_cookies(self, cookies: list[dict[str, Any]]) -> None:
        """Never report these cookies of the jar (another site's, met through a redirect)."""
        for cookie in cookies:
            self._seen_cookies.add(_cookie_key(cookie))

    def forget_requests(self) -> None:
        """Drop what this page requested so far (before a choice: the 'none' state's part)."""
        self.visit.requests.clear()

    def finish_page(
        self, cookies: list[dict[str, Any]], storage: dict[str, list[Any]], origin: str
    ) -> PageVisit:
        """Close the current page with the jar and storage as they are now; returns its visit."""
        visit = self.visit
        self.resolve_initiators()
        for cookie in cookies:
            key = _cookie_key(cookie)
            if key in self._seen_cookies:
                continue
            self._seen_cookies.add(key)
            visit.cookies.append(self.cookie_record(cookie, visit.url))
        for area, entries in storage.items():
            for entry in entries:  # a [key, value] pair, or a key alone
                name, value = (
                    (str(entry[0]), str(entry[1])) if isinstance(entry, list) else (str(entry), "")
                )
                if (area, origin, name) in self._seen_storage:
                    continue
                self._seen_storage.add((area, origin, name))
                set_by = self._script_writes.get((area, name), "")
                shown = value if self.show_values else ""
                visit.storage.append(StorageRecord(area, name, origin, set_by, visit.url, shown))
        return visit

    def resolve_initiators(self) -> None:
        """Fill in each request's initiator from the DevTools events that have arrived."""
        for record in self.visit.requests:
            initiator = self._initiators.get(record.url, "")
            if not initiator and record.kind == "document" and record.url == self.visit.url:
                initiator = "(navigation)"
            record.initiator = initiator or record.frame

    def cookie_record(self, cookie: dict[str, Any], page: str) -> CookieRecord:
        """A cookie from the jar (Playwright's shape), with what set it if that was seen."""
        name = cookie["name"]
        script = self._script_writes.get(("cookie", name))
        header = self._header_cookies.get(name)
        via, set_by = (
            ("script", script) if script else ("header", header) if header else ("unknown", "")
        )
        return CookieRecord(
            name=name,
            domain=cookie.get("domain", ""),
            path=cookie.get("path", "/"),
            expires=float(cookie.get("expires", -1)),
            secure=bool(cookie.get("secure")),
            http_only=bool(cookie.get("httpOnly")),
            same_site=str(cookie.get("sameSite", "")),
            set_by=set_by or "",
            via=via,
            page=page,
            value=str(cookie.get("value", "")) if self.show_values else "",
        )


def _cookie_key(cookie: dict[str, Any]) -> tuple[str, str, str]:
    return (cookie["name"], cookie.get("domain", ""), cookie.get("path", "/"))


def _initiator(initiator: dict[str, Any]) -> str:
    """The URL of what caused a request: the top script frame, else the parser's document."""
    stack = initiator.get("stack")
    while stack:
        for frame in stack.get("callFrames", []):
            if frame.get("url"):
                return str(frame["url"])
        stack = stack.get("parent")
    return str(initiator.get("url", ""))
