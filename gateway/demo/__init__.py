"""The demo site (`serve --demo`).

DEMO_VENDORS: the vendors its page uses, enabled when the operator chose none.
"""

DEMO_VENDORS = ("ga4", "meta_pixel", "openstreetmap", "plausible", "recaptcha", "vimeo", "youtube")
