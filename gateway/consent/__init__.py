"""Visitor and recipient consent: the model, the signed cookie, and the choice rules."""
