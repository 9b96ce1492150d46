"""A queued hit as its queue entry: JSON, the same on SQLite and Redis.

Two formats are read; only the first is written by the edge:

- a **decided hit** (`gateway.model.decided_hits`), shaped for its vendor at delivery::

    {"v": "ga4", "p": [["en", "page_view"], ["ep.n", 3, 1]], "n": 1, "cm": [["gcs", "G100"]],
     "ip": "192.0.2.0", "ua": "Mozilla/5.0 …", "c": null, "t": 1700000000.5, "g": [],
     "ct": 1700000000, "a": "9f1c…"}

  `p` the parameters, `[name, value]` for a value still percent-encoded as it arrived,
  `[name, value, 1]` for a plain one (any JSON value); `n` anonymous (absent: consented);
  `cm` the Consent Mode parameters; `ip` and `ua` absent when empty;
- a **shaped request** (`OutboundHit`), as releases before the decided hit wrote every entry,
  so that hits queued before an upgrade are still delivered after it::

    {"v": "ga4", "m": "GET", "u": "https://…/g/collect?v=2&…", "h": [["User-Agent", "…"]],
     "b": "", "c": null, "t": 1700000000.5, "g": []}

Both carry `c` the consent id, `t` when the hit arrived, `g` the signalled categories, and
`ct` when the choice was made and `a` the client key when known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from gateway.model.decided_hits import DecidedHit
from gateway.model.encoded import Encoded
from gateway.model.outbound_hits import OutboundHit

if TYPE_CHECKING:
    from gateway.delivery.queue import QueuedHit

# A value still percent-encoded is an `Encoded` (a str subclass): written as its text.
_encoder = msgspec.json.Encoder(enc_hook=str)


def encode_entry(queued: QueuedHit) -> bytes:
    hit = queued.hit
    record: dict[str, Any] = {"v": hit.vendor}
    if isinstance(hit, DecidedHit):
        record["p"] = [
            (name, value) if type(value) is Encoded else (name, value, 1)
            for name, value in hit.pairs
        ]
        if hit.anonymous:
            record["n"] = 1
        if hit.consent_mode:
            record["cm"] = hit.consent_mode
        if hit.ip:
            record["ip"] = hit.ip
        if hit.user_agent:
            record["ua"] = hit.user_agent
    else:
        record.update(m=hit.method, u=hit.url, h=hit.headers, b=hit.body.decode("latin-1"))
    record.update(c=queued.consent_id, t=queued.queued_at, g=sorted(queued.signalled))
    if queued.chosen_at is not None:
        record["ct"] = queued.chosen_at
    if queued.client is not None:
        record["a"] = queued.client
    return _encoder.encode(record)


def decode_entry(text: str | bytes, queued_hit: type[QueuedHit]) -> QueuedHit:
    """The entry's `QueuedHit`, of either format (ValueError, KeyError, TypeError if not one)."""
    try:
        r = msgspec.json.decode(text)
    except msgspec.DecodeError as error:
        raise ValueError(str(error)) from None
    hit: DecidedHit | OutboundHit
    if "u" in r:
        headers = tuple((str(name), str(value)) for name, value in r["h"])
        hit = OutboundHit(r["v"], r["m"], r["u"], headers, r["b"].encode("latin-1"))
    else:
        hit = DecidedHit(
            str(r["v"]),
            tuple(_pair(*pair) for pair in r["p"]),
            anonymous=bool(r.get("n")),
            consent_mode=tuple((str(name), str(value)) for name, value in r.get("cm", ())),
            ip=str(r.get("ip", "")),
            user_agent=str(r.get("ua", "")),
        )
    chosen_at = r.get("ct")
    return queued_hit(
        hit,
        r["c"],
        float(r["t"]),
        frozenset(r.get("g", ())),
        chosen_at=None if chosen_at is None else float(chosen_at),
        client=r.get("a"),
    )


def _pair(name: str, value: Any, plain: int = 0) -> tuple[str, Any]:
    if not isinstance(name, str) or not (plain or isinstance(value, str)):
        raise TypeError("a parameter is [name, text] or [name, value, 1]")
    return name, value if plain else Encoded(value)
