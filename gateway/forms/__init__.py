"""Consent collected in forms: proof of what was ticked, double opt-in, one-click unsubscribe."""
