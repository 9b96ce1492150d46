"""`GET /consent-forms.js`: the form-consent script, its settings (endpoint, policy revision)
prepended as one JSON constant. A readable file of its own (`static/consent-forms.js`), loaded
only by pages with a consent form: the banner's first-layer budget is untouched."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "static" / "consent-forms.js"
FORM_SCRIPT_HEADERS = {
    "Cache-Control": "public, max-age=300",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


@cache
def form_script(public_url: str, revision: int) -> bytes:
    settings = {"endpoint": public_url.rstrip("/") + "/consent/forms", "revision": revision}
    # In a block of its own: loading the script twice declares nothing twice.
    prefix = f"{{\nconst CG_FORMS = {json.dumps(settings)};\n"
    return (prefix + SOURCE.read_text(encoding="utf-8") + "}\n").encode()
