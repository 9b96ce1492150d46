"""The records and pure helpers every layer shares, below all of them.

A leaf: nothing here imports the rest of `gateway` (tests/test_layers.py), so the store, the
queue, the features and the endpoints can all speak of receipts, email events, counts and
visitors without importing each other.

- `receipts`: a receipt (`Receipt`, `LabelShown`) and its time-ordered id;
- `email_events`: a recipient's email-tracking consent and their opens and clicks;
- `tombstones`: what an erased subject leaves behind (`tombstone_id`);
- `days`: the UTC day key of a moment (`day_of`);
- `counts`: the kinds of daily count and their stored keys (`CountKey`);
- `visitors`: what a user agent and a request say about their sender (`Visitor`,
  `RequestFacts`);
- `addresses`: an IP address and its truncated form (`truncate_ip`);
- `outbound_hits`: the request the gateway sends a vendor for a hit (`OutboundHit`);
- `decided_hits`: what the edge queues of a forwarded hit (`DecidedHit`), shaped at delivery;
- `encoded`: a parameter value still percent-encoded as it arrived (`Encoded`);
- `link_limits`: how many email links one request may sign, and how long a target may be.
"""
