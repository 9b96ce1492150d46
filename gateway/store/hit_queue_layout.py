"""Where the durable hit queue (`gateway.delivery`) keeps its entries, as far as the store's
erasure and purge need to know: a queued hit is personal data, so erasing its subject deletes
it, and dead letters (no personal data, but no reason to keep them) expire by time.

SQLite: the tables `hit_queue` (a `subject_hash` column) and `hit_dead_letters` (`dead_at`),
in the store's file. Redis: one stream per vendor and shard, each with its own hash tag; an
entry's field `s` is its subject's tombstone hash; every stream is listed in `STREAMS_KEY`
(added before its first entry), so erasure and purge need no SCAN of the whole keyspace.
"""

from __future__ import annotations

DEAD_LETTER_SECONDS = 7 * 86400  # a week to look at them; the purge removes older ones

STREAMS_KEY = "cg:hit-streams"  # set: the key of every queue stream


def stream_key(vendor: str, shard: int) -> str:
    return f"cg:hits:{{hits.{vendor}.{shard}}}"


def share_key(vendor: str, shard: int) -> str:
    """Hash: `anon` (entries without consent) and `a:<client>` counts of the stream."""
    return f"cg:hits-share:{{hits.{vendor}.{shard}}}"


def share_key_of(stream: str) -> str:
    return "cg:hits-share:" + stream.removeprefix("cg:hits:")


def sending_key(vendor: str, shard: int) -> str:
    return f"cg:hits-sending:{{hits.{vendor}.{shard}}}"


def dead_key(vendor: str, shard: int) -> str:
    return f"cg:hits-dead:{{hits.{vendor}.{shard}}}"


def sending_key_of(stream: str) -> str:
    """`cg:hits:{hits.ga4.0}` → `cg:hits-sending:{hits.ga4.0}` (same slot)."""
    return "cg:hits-sending:" + stream.removeprefix("cg:hits:")


def dead_key_of(stream: str) -> str:
    """`cg:hits:{hits.ga4.0}` → `cg:hits-dead:{hits.ga4.0}` (same slot)."""
    return "cg:hits-dead:" + stream.removeprefix("cg:hits:")
