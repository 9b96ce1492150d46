"""The PostgreSQL archive for proof of consent (`GATEWAY_ARCHIVE`): receipts and email events
older than `GATEWAY_HOT_DAYS` move from Redis to monthly partitions in PostgreSQL. A backend
beside Redis, so it lives in the store package (`open_store` builds it; a package of its own
would import the store and be imported by it).

- `schema` — the tables, their versions and the monthly partitions;
- `postgres` — the archive store (psycopg 3 and its pool): idempotent writes behind the
  tombstone, a subject's records, streamed ranges, erasure, partition drops;
- `hot` — the Redis side of a move: old records found in batches and taken out;
- `store` — Redis and the archive read as one store;
- `mover` — the rounds that move records, and the lag they leave.
"""
