"""What the gateway counts per day, as types: each kind of count knows its metric and how its
label is written to the store and read back, so no caller builds or splits label strings.

The store keeps `CountKey(day, metric, label)`; the label spellings below are the stored format
(keep them stable: counters written by an older version are read by a newer one).

    >>> key = PixelCount("ga4", "forward").key("2026-11-25")
    >>> key
    CountKey(day='2026-11-25', metric='pixel', label='ga4:forward')
    >>> PixelCount.of(key)
    PixelCount(vendor='ga4', outcome='forward')
    >>> EmailClick.parse("spring|sale|2|human")  # a campaign may hold the separator
    EmailClick(campaign='spring|sale', link='2', verdict='human')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple, Protocol, Self


class CountKey(NamedTuple):
    """One stored aggregate: e.g. `CountKey("2026-11-25", "pixel", "ga4:forward")`."""

    day: str  # YYYY-MM-DD, UTC
    metric: str
    label: str


class Counted(Protocol):
    """A kind of count: its metric, and its label as stored."""

    metric: ClassVar[str]

    def label(self) -> str: ...


class _Count:
    metric: ClassVar[str]

    def label(self) -> str:
        raise NotImplementedError

    def key(self, day: str) -> CountKey:
        return CountKey(day, self.metric, self.label())

    @classmethod
    def parse(cls, label: str) -> Self:
        raise NotImplementedError

    @classmethod
    def of(cls, key: CountKey) -> Self:
        if key.metric != cls.metric:
            raise ValueError(f"a {key.metric} count is not a {cls.metric} count")
        return cls.parse(key.label)


@dataclass(frozen=True, slots=True)
class ConsentAction(_Count):
    """One per receipt: `visitor:accept_all`."""

    metric: ClassVar[str] = "consent_action"
    kind: str  # visitor or recipient
    action: str

    def label(self) -> str:
        return f"{self.kind}:{self.action}"

    @classmethod
    def parse(cls, label: str) -> Self:
        kind, _, action = label.partition(":")
        return cls(kind, action)


@dataclass(frozen=True, slots=True)
class ConsentGpc(_Count):
    """One per receipt, whether GPC came with it: `visitor:on`."""

    metric: ClassVar[str] = "consent_gpc"
    kind: str
    gpc: bool

    def label(self) -> str:
        return f"{self.kind}:{'on' if self.gpc else 'off'}"

    @classmethod
    def parse(cls, label: str) -> Self:
        kind, _, state = label.partition(":")
        return cls(kind, state == "on")


@dataclass(frozen=True, slots=True)
class ConsentCategory(_Count):
    """One per category granted or denied in a receipt: `visitor:analytics:granted`."""

    metric: ClassVar[str] = "consent_category"
    kind: str
    category: str
    granted: bool

    def label(self) -> str:
        return f"{self.kind}:{self.category}:{'granted' if self.granted else 'denied'}"

    @classmethod
    def parse(cls, label: str) -> Self:
        kind, _, rest = label.partition(":")
        category, _, state = rest.rpartition(":")
        return cls(kind, category, state == "granted")


@dataclass(frozen=True, slots=True)
class PixelCount(_Count):
    """One per hit decision: `ga4:forward`."""

    metric: ClassVar[str] = "pixel"
    vendor: str
    outcome: str

    def label(self) -> str:
        return f"{self.vendor}:{self.outcome}"

    @classmethod
    def parse(cls, label: str) -> Self:
        vendor, _, outcome = label.rpartition(":")
        return cls(vendor, outcome)


@dataclass(frozen=True, slots=True)
class EmailOpen(_Count):
    """One per counted open: `spring|human` (campaign | verdict)."""

    metric: ClassVar[str] = "email_open"
    campaign: str
    verdict: str

    def label(self) -> str:
        return f"{self.campaign}|{self.verdict}"

    @classmethod
    def parse(cls, label: str) -> Self:
        campaign, _, verdict = label.rpartition("|")
        return cls(campaign, verdict)


@dataclass(frozen=True, slots=True)
class EmailClick(_Count):
    """One per counted click: `spring|2|proxied` (campaign | link number | verdict)."""

    metric: ClassVar[str] = "email_click"
    campaign: str
    link: str
    verdict: str

    def label(self) -> str:
        return f"{self.campaign}|{self.link}|{self.verdict}"

    @classmethod
    def parse(cls, label: str) -> Self:
        rest, _, verdict = label.rpartition("|")
        campaign, _, link = rest.rpartition("|")
        return cls(campaign, link, verdict)


@dataclass(frozen=True, slots=True)
class InvalidEmailLink(_Count):
    """One per email token that failed to verify, by kind of event: `click`."""

    metric: ClassVar[str] = "email_invalid"
    kind: str

    def label(self) -> str:
        return self.kind

    @classmethod
    def parse(cls, label: str) -> Self:
        return cls(label)


@dataclass(frozen=True, slots=True)
class FormEvent(_Count):
    """One per purpose of a form receipt: `contact|newsletter|ticked` (form | purpose | what:
    `ticked`, `unticked`, `confirmed`, `unsubscribed`; an unsubscribe names no form)."""

    metric: ClassVar[str] = "form_event"
    form: str
    purpose: str
    what: str

    def label(self) -> str:
        return f"{self.form}|{self.purpose}|{self.what}"

    @classmethod
    def parse(cls, label: str) -> Self:
        form, _, rest = label.partition("|")
        purpose, _, what = rest.partition("|")
        return cls(form, purpose, what)


@dataclass(frozen=True, slots=True)
class FormRefusal(_Count):
    """One per form submission or confirmation refused, by reason: `address_limit`."""

    metric: ClassVar[str] = "form_refusal"
    reason: str

    def label(self) -> str:
        return self.reason

    @classmethod
    def parse(cls, label: str) -> Self:
        return cls(label)
