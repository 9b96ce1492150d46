"""What a consent form sends (`POST /consent/forms`), checked: a pure function of the JSON body.

    >>> body = {
    ...     "form": "contact", "page": "/contact", "policy_revision": 1, "language": "en",
    ...     "email": "Ada@Example.com",
    ...     "purposes": [{"purpose": "newsletter", "label": "Send me the newsletter",
    ...                   "language": "en", "ticked": True, "initially_checked": False}],
    ... }
    >>> submission = parse_submission(body, FormPurposes(("marketing",), "email_tracking"))
    >>> submission.form_id, submission.address, submission.ticked
    ('contact', 'ada@example.com', ('newsletter',))

A box that was ticked before the person touched it (`initially_checked`) is no consent: the
whole submission is refused (`PreTicked`, 422) so the site's developer sees it at once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from gateway.bodies.decode import decode
from gateway.bodies.forms import FormSubmission as FormBody
from gateway.bodies.forms import PurposeBox
from gateway.email.identity import normalise_address
from gateway.errors import Unprocessable
from gateway.model.receipts import LabelShown

NEWSLETTER = "newsletter"
_ADDRESS = re.compile(
    r"[^@\s\x00-\x1f\x7f<>()\[\],;:\"\\]{1,64}@[^@\s\x00-\x1f\x7f<>()\[\],;:\"\\]+"
)


class PreTicked(Unprocessable):
    """A box was ticked before the person acted: consent must be an active choice."""

    error = "pre_ticked"


@dataclass(frozen=True, slots=True)
class FormPurposes:
    """The purposes a form may ask for: the banner's categories (not `necessary`), the
    newsletter and email tracking — the last two only with the person's confirmed address."""

    categories: tuple[str, ...]
    email_category: str

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset({*self.categories, NEWSLETTER, self.email_category}) - {"necessary"}

    @property
    def double_opt_in(self) -> frozenset[str]:
        """Granted only once the address's owner confirms (they concern that address)."""
        return frozenset({NEWSLETTER, self.email_category})


@dataclass(frozen=True, slots=True)
class FormSubmission:
    form_id: str
    page: str
    policy_revision: int
    language: str
    address: str | None  # normalised; held in memory only, never stored
    labels: tuple[LabelShown, ...]
    honeypot_filled: bool

    @property
    def ticked(self) -> tuple[str, ...]:
        return tuple(label.purpose for label in self.labels if label.ticked)

    @property
    def unticked(self) -> tuple[str, ...]:
        return tuple(label.purpose for label in self.labels if not label.ticked)


def parse_submission(body: Any, purposes: FormPurposes) -> FormSubmission:
    """The checked submission; `Unprocessable` (422) names the first bad field."""
    sent = decode(body, FormBody)
    labels = _labels(sent.purposes, purposes)
    address = _address(sent.email)
    needs_address = sorted(
        {label.purpose for label in labels if label.ticked} & purposes.double_opt_in
    )
    if needs_address and address is None:
        raise Unprocessable(
            f"{', '.join(needs_address)} needs the address to confirm: mark the address field"
            ' with data-consent-subject="email"'
        )
    return FormSubmission(
        form_id=sent.form,
        page=sent.page,
        policy_revision=sent.policy_revision,
        language=sent.language,
        address=address,
        labels=labels,
        honeypot_filled=bool(sent.honeypot),
    )


def _labels(boxes: list[PurposeBox], purposes: FormPurposes) -> tuple[LabelShown, ...]:
    labels: list[LabelShown] = []
    pre_ticked: list[str] = []
    for index, box in enumerate(boxes):
        where, purpose = f'"purposes"[{index}]', box.purpose
        if purpose not in purposes.allowed:
            raise Unprocessable(
                f"{where}: unknown purpose {purpose!r}",
                allowed=sorted(purposes.allowed),
            )
        if any(label.purpose == purpose for label in labels):
            raise Unprocessable(f"{where}: {purpose!r} appears twice")
        if box.initially_checked:
            pre_ticked.append(purpose)
        digest = hashlib.sha256(box.label.encode("utf-8", "surrogatepass")).hexdigest()
        labels.append(LabelShown(purpose, box.language, box.label, digest, box.ticked))
    if pre_ticked:
        raise PreTicked(
            f"pre-ticked box(es) for {', '.join(pre_ticked)}: consent must be an active choice,"
            " so the form must show every consent box unticked",
            purposes=pre_ticked,
        )
    return tuple(labels)


def _address(value: str | None) -> str | None:
    if not value:
        return None
    address = normalise_address(value)
    _, _, domain = address.rpartition("@")
    if (
        _ADDRESS.fullmatch(address) is None
        or "." not in domain.strip(".")
        or ".." in domain
        or domain.startswith(("-", "."))
    ):
        raise Unprocessable('"email" is not a valid email address')
    return address
