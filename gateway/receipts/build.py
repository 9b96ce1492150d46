"""Making a receipt from a decision and the facts of the request that carried it."""

from __future__ import annotations

import time
from collections.abc import Iterable

from gateway.banner.texts import resolve_language, texts_hash
from gateway.receipts.model import Action, Receipt, SubjectKind, new_receipt_id
from gateway.settings import Settings
from gateway.visitors.request import RequestFacts


def new_receipt(
    settings: Settings,
    facts: RequestFacts,
    *,
    subject_id: str,
    subject_kind: SubjectKind,
    action: Action,
    granted: Iterable[str],
    denied: Iterable[str],
    language: str | None = None,
    page: str = "",
    now: float | None = None,
    shown_texts_hash: str = "",
    refused_vendors: Iterable[str] = (),
) -> Receipt:
    """`shown_texts_hash` is the hash of the texts the person saw (with `language` already
    resolved); without it, the built-in texts of `language` are assumed."""
    created = round(time.time() if now is None else now, 3)
    shown_language = language if language and shown_texts_hash else resolve_language(language)
    return Receipt(
        receipt_id=new_receipt_id(created),
        subject_id=subject_id,
        subject_kind=subject_kind,
        action=action,
        granted=tuple(sorted(granted)),
        denied=tuple(sorted(denied)),
        policy_revision=settings.policy_revision,
        policy_url=settings.policy_url,
        texts_hash=shown_texts_hash or texts_hash(shown_language),
        language=shown_language,
        region=facts.region,
        collection_point=facts.origin + page,
        ip=facts.truncated_ip,
        browser=facts.visitor.browser,
        os=facts.visitor.os,
        device=facts.visitor.device,
        gpc=facts.gpc,
        created_at=created,
        refused_vendors=tuple(sorted(refused_vendors)),
    )
