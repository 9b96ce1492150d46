"""The gateway's exceptions, mapped to HTTP responses in one place (`gateway.app`).

Every exception class in `gateway/` is in this tree (`tests/test_errors_tree.py` checks it).
Those raised and caught inside one module are defined there, on a base from here.

GatewayError
├── ConfigError            bad settings or rule file: start-up stops with `str(error)`
│   └── RuleError          one tag rule file is wrong (file, key, problem)
├── StoreUnavailable       the store did not answer: receipts spool, tracking fails closed
│   └── PartlyAppended     an append failed after some vendors' hits were stored; those must
│                          not be appended again (`delivery.queue`)
├── UpstreamError          another party did not do what was asked; never a visitor's error
│   ├── SendError          a hit did not reach its vendor, or may not have (`delivery.sender`)
│   │   ├── NotSent        nothing was written: safe to send again
│   │   │   └── Held       the caller's `before_write` held it back (connection open)
│   │   └── AnswerLost     written, but no complete answer: sending again may count it twice
│   ├── ScriptUnavailable  a vendor did not deliver its script → 404 or 502 (`tracking.scripts`)
│   ├── MailError          the SMTP server or opt-in webhook did not take a mail (`forms.mail`)
│   └── PageNotLoaded      an audited page answered an error status (`audit.crawl`)
└── ClientError            a request the gateway will not honour → 4xx JSON
    ├── BadRequest         400 malformed input
    │   ├── _BadNumber     a JSON number the strict parser refuses (`strict_json`, internal)
    │   └── UnreadableBody a hit body its rule cannot read, with a reason code (`tracking.bodies`)
    ├── Unauthorized       401 missing or wrong admin token
    ├── Forbidden          403 origin or CSRF check failed
    │   └── FormRefused    an admin form failed its CSRF or Origin check: shown as a page
    │                      (`admin.csrf`)
    ├── NotFound           404
    ├── StalePolicy        409 the form was shown under an older policy (`forms.service`)
    ├── PayloadTooLarge    413 body over the cap
    │   ├── TooManyHits    more hits in one body than a batch may carry (`tracking.bodies`)
    │   └── HitTooLarge    a shaped hit, or a request's hits, over their byte cap (`tracking.bodies`)
    ├── UnsupportedMedia   415 body is not JSON
    ├── Unprocessable      422 well-formed but invalid (unknown category, …)
    │   └── PreTicked      a consent box was ticked before the person acted (`forms.submission`)
    ├── OptInUnavailable   422 double opt-in is not configured (`forms.service`)
    └── TooManyRequests    429 too many failed admin logins from one client (Retry-After)
"""

from __future__ import annotations

from typing import Any, ClassVar


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """A setting or file that stops start-up; the message is the one line shown to the user.

    >>> str(ConfigError("gateway.toml", "policy_revision", "expected an integer, got 'x'"))
    "gateway.toml: policy_revision: expected an integer, got 'x'"
    """

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


class RuleError(ConfigError):
    """A tag rule file under `tag_rules/` is invalid."""


class ClientError(GatewayError):
    """A request error: `status` and a short `error` code, plus a human `detail`."""

    status: ClassVar[int] = 400
    error: ClassVar[str] = "bad_request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.detail, **self.extra}

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(ClientError):
    status, error = 400, "bad_request"


class Unauthorized(ClientError):
    status, error = 401, "unauthorized"


class Forbidden(ClientError):
    status, error = 403, "forbidden"


class NotFound(ClientError):
    status, error = 404, "not_found"


class PayloadTooLarge(ClientError):
    status, error = 413, "payload_too_large"


class UnsupportedMedia(ClientError):
    status, error = 415, "unsupported_media_type"


class Unprocessable(ClientError):
    status, error = 422, "unprocessable"


class TooManyRequests(ClientError):
    status, error = 429, "too_many_requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class StoreUnavailable(GatewayError):
    """The store cannot be reached or did not answer in time (tracking fails closed)."""


class UpstreamError(GatewayError):
    """Another party — a vendor, a mail server or webhook, an audited site — did not do what
    was asked. Handled where it is raised (retried, counted, answered 502), never a 500."""
