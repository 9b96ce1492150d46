"""Our site's consent promises, checked in a real browser on every deploy.

    pip install 'consent-gateway[audit]'
    CONSENT_GATEWAY_SECRET="$STAGING_GATEWAY_KEY" pytest test_site_consent.py \
        --consent-site https://staging.example.com/ --consent-rules tag_rules/
"""

from gateway.audit.pytest_plugin import (
    cookies_declared,
    gateway_decisions,
    no_vendor_cookies,
    no_vendor_requests,
    no_violations,
)


def test_nothing_tracks_before_a_choice(consent_page):
    page = consent_page("none")  # a new visitor; the banner is waiting
    for category in ("analytics", "marketing"):
        no_vendor_requests(page, category)
        no_vendor_cookies(page, category)
    cookies_declared(page)
    assert gateway_decisions(page) == {}  # no tag even asked the gateway


def test_reject_all_is_respected(consent_page):
    page = consent_page("reject")  # clicks "Reject all" in the real banner, then reloads
    no_violations(page)
    cookies_declared(page)


def test_analytics_alone_runs_analytics_and_nothing_else(consent_page):
    page = consent_page("analytics")  # "Customise", switch Analytics on, "Save choices"
    no_violations(page)
    no_vendor_cookies(page, "marketing")
    assert gateway_decisions(page)["ga4"] == "forward"


def test_gpc_keeps_marketing_off_even_after_accept_all(consent_page):
    page = consent_page("accept-gpc")  # Sec-GPC: 1 and navigator.globalPrivacyControl
    no_violations(page)
    no_vendor_cookies(page, "marketing")


def test_a_returning_visitor_who_accepted_everything(consent_page):
    page = consent_page("accept", preset=True)  # a signed consent cookie, no banner clicks
    no_violations(page)
    cookies_declared(page)
    assert gateway_decisions(page)["ga4"] == "forward"
