"""Proof of consent: the receipt, its durable writer with a local spool, and its export formats."""
