"""What the reports show beside the items: the cookie database's word, the draft rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.audit.knowledge import Known
from gateway.audit.suggest import Draft


@dataclass(frozen=True, slots=True)
class ReportExtras:
    """What the reports show beside the items: the cookie database's word, the drafts."""

    database: str = ""  # where the cookie database came from
    known: Sequence[Known] = ()
    drafts: Sequence[Draft] = ()


NO_EXTRAS = ReportExtras()
