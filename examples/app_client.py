"""A stand-in mobile app: the HTTP calls a Kotlin or Swift app makes to the gateway.

It keeps no cookies. It records the person's choice from its consent screen, keeps the signed
token the gateway answers with, and sends its analytics hits through `/t` with that token and
its platform's tracking status (iOS App Tracking Transparency, Android's ad-ID opt-out):

    app = ConsentApp("https://consent.example.com", "com.example.shop", IOS_AGENT)
    app.choose(granted=["analytics"], screen="Onboarding")
    app.send("/t/ga4_app/mp/collect?firebase_app_id=…&api_secret=…", json_body={...})

The Swift and Kotlin snippets of docs/mobile-apps.md make exactly these requests. Standard library only, so
it runs anywhere Python does (`python examples/app_client.py https://consent.example.com`).
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

IOS_AGENT = "ShopApp/3.2 (com.example.shop; build:41; iOS 17.5.0) Alamofire/5.9.1"
ANDROID_AGENT = "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UD1A.230803.041)"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def decision(self) -> str:
        """`forward; reason=consented`, … — what the gateway did with a hit."""
        return self.headers.get("x-consent-decision", "")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ConsentApp:
    gateway: str
    bundle_id: str
    user_agent: str
    tracking: str | None = None  # "authorized", "denied", … (None: the platform sends none)
    token: str | None = field(default=None, repr=False)  # kept in the app's secure storage

    def __post_init__(self) -> None:
        if urllib.parse.urlsplit(self.gateway).scheme not in ("http", "https"):
            raise ValueError(f"the gateway must be an http(s) URL, got {self.gateway!r}")

    def choose(
        self, *, granted: list[str] | None = None, action: str | None = None, screen: str = ""
    ) -> dict[str, Any]:
        """Record the choice made on `screen`; keep the token the gateway signs."""
        choice: dict[str, Any] = {"app": {"id": self.bundle_id, "screen": screen}}
        choice |= {"action": action} if action else {"granted": granted or []}
        answer = self._request("POST", "/consent", json.dumps(choice).encode(), "application/json")
        if answer.status != 200:
            raise RuntimeError(f"the gateway refused the choice: {answer.status} {answer.body!r}")
        recorded: dict[str, Any] = answer.json()
        self.token = recorded["token"]
        return recorded

    def consent(self) -> dict[str, Any] | None:
        state: dict[str, Any] | None = self._request("GET", "/consent").json()["consent"]
        return state

    def withdraw(self) -> dict[str, Any]:
        """Withdraw (a receipt records it) and forget the token, as the app must."""
        answer: dict[str, Any] = self._request("DELETE", "/consent").json()
        self.token = None
        return answer

    def send(
        self, path: str, *, json_body: Any = None, form: dict[str, str] | None = None
    ) -> Answer:
        """One analytics hit through the gateway, as the app would send it to the vendor."""
        if json_body is not None:
            # As the vendors' own SDKs send it (the Measurement Protocol takes no JSON type).
            return self._request("POST", path, json.dumps(json_body).encode(), "text/plain")
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            return self._request("POST", path, body, "application/x-www-form-urlencoded")
        return self._request("GET", path)

    def _request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> Answer:
        headers = {"User-Agent": self.user_agent}
        if self.token:
            headers["Authorization"] = f"Consent {self.token}"
        if self.tracking is not None:
            headers["App-Tracking"] = self.tracking
        if content_type:
            headers["Content-Type"] = content_type
        url = self.gateway + path  # http(s) only: checked in __post_init__
        request = urllib.request.Request(url, body, headers, method=method)  # noqa: S310
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
        try:
            with opener.open(request, timeout=10) as response:
                return Answer(response.status, _lower(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, _lower(error.headers.items()), error.read())


def _lower(items: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


if __name__ == "__main__":  # a quick look at a running gateway: choose, read back, withdraw
    app = ConsentApp(sys.argv[1].rstrip("/"), "com.example.shop", IOS_AGENT, "authorized")
    print(json.dumps(app.choose(granted=["analytics"], screen="Onboarding"), indent=2))
    print(json.dumps(app.consent(), indent=2))
    print(json.dumps(app.withdraw(), indent=2))
