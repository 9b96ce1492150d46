"""Making a receipt from a decision and the facts of the request that carried it.

The caller says what the person was shown (`gateway.receipts.shown`) and passes the request's
facts (`gateway.endpoints.facts` makes them from an HTTP request): receipts know neither the
banner nor HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from gateway.model.receipts import Action, LabelShown, Receipt, SubjectKind, new_receipt_id
from gateway.model.visitors import RequestFacts
from gateway.receipts.shown import TextsShown
from gateway.settings import ConsentSection


def new_receipt(
    policy: ConsentSection,
    facts: RequestFacts,
    *,
    subject_id: str,
    subject_kind: SubjectKind,
    action: Action,
    granted: Iterable[str],
    denied: Iterable[str],
    shown: TextsShown,
    page: str = "",
    now: float | None = None,
    refused_vendors: Iterable[str] = (),
    form_id: str = "",
    labels: Iterable[LabelShown] = (),
) -> Receipt:
    created = round(time.time() if now is None else now, 3)
    return Receipt(
        receipt_id=new_receipt_id(created),
        subject_id=subject_id,
        subject_kind=subject_kind,
        action=action,
        granted=tuple(sorted(granted)),
        denied=tuple(sorted(denied)),
        policy_revision=policy.revision,
        policy_url=policy.url,
        texts_hash=shown.texts_hash,
        language=shown.language,
        region=facts.region,
        collection_point=facts.origin + page,
        ip=facts.truncated_ip,
        browser=facts.visitor.browser,
        os=facts.visitor.os,
        device=facts.visitor.device,
        gpc=facts.gpc,
        created_at=created,
        refused_vendors=tuple(sorted(refused_vendors)),
        form_id=form_id,
        labels=tuple(labels),
    )
