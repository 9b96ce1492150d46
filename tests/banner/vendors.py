"""The vendors of the shipped `tag_rules/`, as the backend hands them to the banner."""

from __future__ import annotations

from gateway.banner.config import VendorInfo

SHIPPED_VENDORS = (
    VendorInfo(
        "ga4",
        "Google Analytics 4",
        "analytics",
        "https://policies.google.com/privacy",
        ("_ga", "_ga_*"),
        "Visit statistics: pages seen, referrer, device type.",
    ),
    VendorInfo(
        "matomo",
        "Matomo",
        "analytics",
        "https://matomo.org/privacy-policy/",
        (
            "_pk_id.*",
            "_pk_ses.*",
            "_pk_ref.*",
            "_pk_cvar.*",
            "_pk_hsr.*",
            "_pk_testcookie",
            "_pk_testcookie.*",
            "mtm_consent",
            "mtm_consent_removed",
            "mtm_cookie_consent",
        ),
        "Visit statistics on our own analytics server.",
    ),
    VendorInfo(
        "plausible",
        "Plausible Analytics",
        "analytics",
        "https://plausible.io/data-policy",
        (),
        "Cookieless visit statistics.",
    ),
    VendorInfo(
        "meta_pixel",
        "Meta Pixel",
        "marketing",
        "https://www.facebook.com/privacy/policy/",
        ("_fbp", "_fbc"),
        "Measures Facebook and Instagram ads and builds advertising audiences.",
    ),
    VendorInfo(
        "linkedin_insight",
        "LinkedIn Insight Tag",
        "marketing",
        "https://www.linkedin.com/legal/privacy-policy",
        ("li_fat_id", "lidc", "bcookie", "li_sugr", "UserMatchHistory", "AnalyticsSyncHistory"),
        "Measures LinkedIn ads and shows which kinds of companies visit.",
    ),
    VendorInfo(
        "openstreetmap",
        "OpenStreetMap",
        "preferences",
        "https://osmfoundation.org/wiki/Privacy_Policy",
        (),
        "Embedded maps; loading one sends your IP address to the OpenStreetMap servers.",
    ),
    VendorInfo(
        "vimeo",
        "Vimeo",
        "marketing",
        "https://vimeo.com/privacy",
        (),
        "Embedded videos; loading one sends your IP address and browser details to Vimeo.",
        terms_url="https://vimeo.com/terms",
    ),
    VendorInfo(
        "youtube",
        "YouTube",
        "marketing",
        "https://policies.google.com/privacy",
        (),
        "Embedded videos; playing one lets Google see your visit and set its cookies.",
        terms_url="https://www.youtube.com/t/terms",
    ),
    VendorInfo(
        "recaptcha",
        "Google reCAPTCHA",
        "necessary",
        "https://policies.google.com/privacy",
        ("_GRECAPTCHA",),
        "Protects our forms from spam and abuse by telling people from bots (risk analysis).",
        terms_url="https://policies.google.com/terms",
        notice=(
            (
                "en",
                "This site is protected by reCAPTCHA and the Google [Privacy Policy] and"
                " [Terms of Service] apply.",
            ),
            (
                "ru",
                "Этот сайт защищён reCAPTCHA, и к нему применяются [Политика"
                " конфиденциальности] и [Условия использования] Google.",
            ),
        ),
    ),
)
