"""An app's platform-level tracking signal, sent by the app in the `App-Tracking` header.

=================  =====================================================  =============
value              what the app sends it for                              ad tracking
=================  =====================================================  =============
(no header)        a browser, or an app that sends no platform signal     no signal
``authorized``     iOS: App Tracking Transparency authorized;             allowed
                   Android: the advertising ID is available
``denied``         iOS: the person said no to App Tracking Transparency   refused
``restricted``     iOS: tracking restricted (parental controls, MDM)      refused
``not-determined`` iOS: not asked yet — no tracking before the answer     refused
``limited``        Android: the person opted out of ads personalisation   refused
                   (advertising ID zeroed or deleted)
anything else      unknown: fails closed                                  refused
=================  =====================================================  =============

A refusal is an opt-out of `marketing` like GPC (`gateway.decision`). Apple's enum spelling
(`notDetermined`) is accepted too: only `authorized` allows, whatever the case.

>>> app_tracking_refused(None), app_tracking_refused("authorized"), app_tracking_refused("denied")
(False, False, True)
"""

from __future__ import annotations

from typing import Final

APP_TRACKING_HEADER: Final = "app-tracking"


def app_tracking_refused(value: str | None) -> bool:
    """True unless the header is absent or says `authorized`."""
    if value is None:
        return False
    return value.strip().lower() != "authorized"
