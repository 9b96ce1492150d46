"""Marketing email tracking by consent: signed links, open beacons, verdicts, recipient choices.

The public Python API:

- `sign_links(settings, campaign=…, recipient=…, urls=[…])` → click, open and preferences URLs;
- `recipient_id(address, key)` → the subject for an address (keyed hash; `recipient_key(keys)`);
- `EmailTemplate.parse(html, signer).render(signer.message(…))` (`gateway.email.rewrite`) →
  the email with every link wrapped, the pixel and the honeypot added.
"""

from __future__ import annotations

from gateway.email.identity import recipient_id, recipient_key
from gateway.email.links import EmailSigner, SignedLinks, sign_links

__all__ = ["EmailSigner", "SignedLinks", "recipient_id", "recipient_key", "sign_links"]
