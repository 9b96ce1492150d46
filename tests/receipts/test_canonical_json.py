"""A receipt's JSON is canonical and stays the text receipts were always written in: replays
and re-deliveries compare it byte for byte (Redis keeps it as a set member), so the encoder
behind `Receipt.to_json` must write exactly what `json.dumps(sort_keys=True,
ensure_ascii=False)` wrote, for any text a receipt may hold."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from gateway.model.receipts import LabelShown, Receipt
from tests.store.test_contract import receipt

# Any text that encodes as UTF-8 (every text a receipt holds was checked to be): controls,
# quotes, backslashes, U+2028, astral characters.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
WORDS = st.lists(TEXT, max_size=4).map(tuple)
MOMENTS = st.floats(min_value=0, max_value=4_102_444_800).map(lambda t: round(t, 3))
LABELS = st.lists(st.builds(LabelShown, TEXT, TEXT, TEXT, TEXT, st.booleans()), max_size=3).map(
    tuple
)


def as_written_before(made: Receipt) -> str:
    return json.dumps(made.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@given(
    subject=TEXT,
    point=TEXT,
    browser=TEXT,
    granted=WORDS,
    refused=WORDS,
    at=MOMENTS,
    revision=st.integers(min_value=1, max_value=2**31),
    gpc=st.booleans(),
    labels=LABELS,
    form=TEXT,
)
def test_to_json_writes_the_text_receipts_were_always_written_in(
    subject: str,
    point: str,
    browser: str,
    granted: tuple[str, ...],
    refused: tuple[str, ...],
    at: float,
    revision: int,
    gpc: bool,
    labels: tuple[LabelShown, ...],
    form: str,
) -> None:
    made = receipt(
        subject,
        at=at,
        collection_point=point,
        browser=browser,
        granted=granted,
        refused_vendors=refused,
        policy_revision=revision,
        gpc=gpc,
        labels=labels,
        form_id=form,
    )
    assert made.to_json() == as_written_before(made)
    assert Receipt.from_json(made.to_json()) == made
