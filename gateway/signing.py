"""Secret keys and signers: one salt per purpose, keys oldest → newest (newest signs, all verify)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from itsdangerous import URLSafeTimedSerializer

log = logging.getLogger("gateway")

SALT_CONSENT = "cg.consent"
SALT_CLICK = "cg.click"
SALT_OPEN = "cg.open"
SALT_PREFS = "cg.prefs"
SALT_ADMIN = "cg.admin"


class _CompactJSON:
    """Compact, stable JSON, so a payload signs the same way every time."""

    @staticmethod
    def loads(payload: str | bytes) -> Any:
        return json.loads(payload)

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, separators=(",", ":"), sort_keys=True)


class PlainSerializer(URLSafeTimedSerializer):
    """A URL-safe timed serializer that never zlib-compresses, so the banner can read payloads."""

    default_serializer = _CompactJSON

    def dump_payload(self, obj: Any) -> bytes:
        from itsdangerous.encoding import base64_encode

        return base64_encode(self.serializer.dumps(obj).encode())


def make_serializer(keys: tuple[str, ...], salt: str) -> URLSafeTimedSerializer:
    """A SHA-256 signer for `salt`; `keys` is oldest → newest and the newest signs."""
    return PlainSerializer(list(keys), salt=salt, signer_kwargs={"digest_method": hashlib.sha256})


def generate_secret() -> str:
    """A new random secret key (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def development_keys(data_dir: Path) -> tuple[str, ...]:
    """The dev secret in `data_dir/secret.key`, generated once (mode 0600) with a warning."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(generate_secret() + "\n")
        log.warning(
            "generated a development secret key in %s; set GATEWAY_SECRET_KEYS in production",
            path,
        )
    return (path.read_text().strip(),)
