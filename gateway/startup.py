"""What `serve` and `check-config` tell the operator before the first visitor arrives: the
snippet for the site's pages, the origins whose banner may record a choice, the vendors
enabled — and, loudly, what is missing (no origin allowed, no vendor chosen).

    >>> from gateway.settings import from_keys
    >>> print(startup_notice(from_keys(public_url="https://consent.example.com"), ()))
    consent-gateway at https://consent.example.com
      vendors: none chosen — the banner offers necessary cookies only (set GATEWAY_VENDORS=ga4,meta_pixel or vendors = [...] in the config)
      warning: no site origin may record a choice — a banner on your site cannot save it; set GATEWAY_ALLOWED_ORIGINS=https://www.example.com
      first tag in <head> of every page:
        <script src="https://consent.example.com/consent.js"></script>
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.settings import Settings

ORIGINS_VARIABLE = "GATEWAY_ALLOWED_ORIGINS"
VENDORS_VARIABLE = "GATEWAY_VENDORS"


def origin_warning(settings: Settings) -> str | None:
    """The one line that says no site may record a choice, or None when some origin may."""
    if settings.consent.allowed_origins:
        return None
    return (
        "no site origin may record a choice — a banner on your site cannot save it;"
        f" set {ORIGINS_VARIABLE}=https://www.example.com"
    )


def vendor_line(vendors: Sequence[str]) -> str:
    if not vendors:
        return (
            "none chosen — the banner offers necessary cookies only"
            f" (set {VENDORS_VARIABLE}=ga4,meta_pixel or vendors = [...] in the config)"
        )
    return ", ".join(vendors)


def startup_notice(
    settings: Settings,
    vendors: Sequence[str],
    scripts: Sequence[str] = (),
    placeholders: Sequence[str] = (),
) -> str:
    """The text `serve` prints at start; `vendors` are the enabled rule ids, `scripts` the
    paths of the vendors' loader scripts served first-party (`/t/ga4/gtag/js`), `placeholders`
    the shipped placeholders still in the rules (`gateway.rules.placeholders`)."""
    endpoint = settings.site.public_url.rstrip("/")
    lines = [f"consent-gateway at {endpoint}", f"  vendors: {vendor_line(vendors)}"]
    warning = origin_warning(settings)
    if warning is None:
        lines.append(
            f"  site origins that may record a choice: {', '.join(settings.consent.allowed_origins)}"
        )
    else:
        lines.append(f"  warning: {warning}")
    lines.extend(f"  warning: {placeholder}" for placeholder in placeholders)
    lines.append("  first tag in <head> of every page:")
    lines.append(f'    <script src="{endpoint}/consent.js"></script>')
    if scripts:
        lines.append("  vendors' loader scripts, from this gateway (docs/getting-started.md):")
        lines.extend(f'    <script async src="{endpoint}{path}?id=…"></script>' for path in scripts)
    return "\n".join(lines)
