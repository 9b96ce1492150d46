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

from gateway.email.identity import normalise_address
from gateway.errors import Unprocessable
from gateway.inputs import json_object
from gateway.receipts.model import LabelShown

NEWSLETTER = "newsletter"
FORM_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,4}")
MAX_PURPOSES = 16
MAX_LABEL = 1000
MAX_PAGE = 512
MAX_ADDRESS = 254
_FIELDS = {"form", "page", "policy_revision", "language", "email", "purposes", "honeypot"}
_PURPOSE_FIELDS = {"purpose", "label", "language", "ticked", "initially_checked"}
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
    record = json_object(body, _FIELDS)
    for required in ("form", "page", "policy_revision", "language", "purposes"):
        if required not in record:
            raise Unprocessable(f'"{required}" is required')
    form_id = record["form"]
    if not isinstance(form_id, str) or FORM_ID.fullmatch(form_id) is None:
        raise Unprocessable('"form" must be 1 to 64 letters, digits or "._:-"')
    page = record["page"]
    if not isinstance(page, str) or not page.startswith("/") or len(page) > MAX_PAGE:
        raise Unprocessable(f'"page" must be a path starting with "/" (at most {MAX_PAGE})')
    revision = record["policy_revision"]
    if type(revision) is not int or revision < 1:
        raise Unprocessable('"policy_revision" must be an integer ≥ 1')
    language = _language(record["language"], "language")
    honeypot = record.get("honeypot", "")
    if not isinstance(honeypot, str):
        raise Unprocessable('"honeypot" must be a string')
    labels = _labels(record["purposes"], purposes)
    address = _address(record.get("email"))
    needs_address = sorted(
        {label.purpose for label in labels if label.ticked} & purposes.double_opt_in
    )
    if needs_address and address is None:
        raise Unprocessable(
            f"{', '.join(needs_address)} needs the address to confirm: mark the address field"
            ' with data-consent-subject="email"'
        )
    return FormSubmission(
        form_id=form_id,
        page=page,
        policy_revision=revision,
        language=language,
        address=address,
        labels=labels,
        honeypot_filled=bool(honeypot),
    )


def _language(value: Any, name: str) -> str:
    if not isinstance(value, str) or len(value) > 35 or LANGUAGE.fullmatch(value) is None:
        raise Unprocessable(f'"{name}" must be a language tag like "en" or "ru-RU"')
    return value


def _labels(value: Any, purposes: FormPurposes) -> tuple[LabelShown, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_PURPOSES:
        raise Unprocessable(f'"purposes" must be a list of 1 to {MAX_PURPOSES} checkboxes')
    labels: list[LabelShown] = []
    pre_ticked: list[str] = []
    for index, item in enumerate(value):
        where = f'"purposes"[{index}]'
        box = json_object(item, _PURPOSE_FIELDS)
        missing = sorted(_PURPOSE_FIELDS - set(box))
        if missing:
            raise Unprocessable(f"{where} lacks {', '.join(missing)}")
        purpose = box["purpose"]
        if not isinstance(purpose, str) or purpose not in purposes.allowed:
            raise Unprocessable(
                f"{where}: unknown purpose {purpose!r}",
                allowed=sorted(purposes.allowed),
            )
        if any(label.purpose == purpose for label in labels):
            raise Unprocessable(f"{where}: {purpose!r} appears twice")
        text = box["label"]
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_LABEL:
            raise Unprocessable(f'{where}: "label" must be the text shown (1 to {MAX_LABEL})')
        if type(box["ticked"]) is not bool or type(box["initially_checked"]) is not bool:
            raise Unprocessable(f'{where}: "ticked" and "initially_checked" must be true or false')
        if box["initially_checked"]:
            pre_ticked.append(purpose)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        language = _language(box["language"], f"{where}.language")
        labels.append(LabelShown(purpose, language, text, digest, box["ticked"]))
    if pre_ticked:
        raise PreTicked(
            f"pre-ticked box(es) for {', '.join(pre_ticked)}: consent must be an active choice,"
            " so the form must show every consent box unticked",
            purposes=pre_ticked,
        )
    return tuple(labels)


def _address(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_ADDRESS:
        raise Unprocessable('"email" must be an email address')
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
