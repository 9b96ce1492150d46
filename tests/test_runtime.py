"""The running gateway's parts: what they show of themselves."""

from __future__ import annotations

import re
from collections.abc import Callable

from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.conftest import SECRET


def test_no_signing_key_in_the_gateways_repr(make_settings: Callable[..., Settings]) -> None:
    """A repr ends up in logs and tracebacks: the keys must never be in it."""
    gateway = Gateway.build(make_settings())
    assert gateway.keys == (SECRET,)
    shown = repr(gateway)
    assert "Gateway(" in shown
    assert SECRET not in shown
    assert re.search(r"\bkeys=", shown) is None
