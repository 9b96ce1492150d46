"""An app's platform-level tracking signal, sent by the app in the `App-Tracking` header.

=================  =====================================================  =============
value              what the app sends it for                              ad tracking
=================  =====================================================  =============
(no header)        a browser; for an app rule (`platform = "app"`) an     refused on
                   app that sent no signal — Android apps send            app rules
                   ``authorized`` or ``limited``
``authorized``     iOS: App Tracking Transparency authorized;             allowed
                   Android: the advertising ID is available
``denied``         iOS: the person said no to App Tracking Transparency   refused
``restricted``     iOS: tracking restricted (parental controls, MDM)      refused
``not-determined`` iOS: not asked yet — no tracking before the answer     refused
``limited``        Android: the person opted out of ads personalisation   refused
                   (advertising ID zeroed or deleted)
anything else      unknown: fails closed                                  refused
sent twice         allowed only if every copy says ``authorized``         refused
=================  =====================================================  =============

A refusal is an opt-out of `marketing` like GPC (`gateway.decision`). Apple's enum spelling
(`notDetermined`) is accepted too: only `authorized` allows, whatever the case.

>>> app_tracking_signal(None), app_tracking_signal(["authorized"]), app_tracking_signal(["denied"])
('absent', 'authorized', 'refused')
>>> app_tracking_signal(["authorized", "denied"])
'refused'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

APP_TRACKING_HEADER: Final = "app-tracking"
# What the request says of ad tracking: no header at all, allowed, or refused.
AppTracking = Literal["absent", "authorized", "refused"]


def app_tracking_signal(values: Sequence[str] | None) -> AppTracking:
    """The signal of every `App-Tracking` header a request sent (None: no header)."""
    if not values:
        return "absent"
    if all(value.strip().lower() == "authorized" for value in values):
        return "authorized"
    return "refused"
