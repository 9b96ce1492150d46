"""Durable hit delivery: the queue in the store, the delivery workers, and their policies.

The edge (`gateway.tracking.appender.HitAppender`) appends decided hits to a `HitQueue`; a
`DeliveryWorker` — in `serve`, or alone in `consent-gateway forward` — takes them, checks the
subject's consent again, sends them (`gateway.delivery.sender`) and acknowledges them.
"""
