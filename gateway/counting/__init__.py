"""The daily aggregate counts every feature keeps (hits, receipts, email events, forms).

`EventCounter` adds them up in memory and writes them to the store in batches; while the store
is down `PendingCountsFile` keeps them on disk too. What is counted, and how a count's key is
written, is `gateway.model.counts`.
"""
