from __future__ import annotations

import base64
import hashlib
import logging
import stat
from pathlib import Path

import pytest
from itsdangerous import BadSignature, URLSafeTimedSerializer

from gateway.signing import (
    SALT_ADMIN,
    SALT_CLICK,
    SALT_CONSENT,
    SALT_OPEN,
    SALT_PREFS,
    _CompactJSON,
    development_keys,
    generate_secret,
    make_serializer,
)


def test_development_secret_is_generated_once_with_mode_0600(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        first = development_keys(tmp_path / "var")
    secret_file = tmp_path / "var" / "secret.key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert "generated a development secret key" in caplog.text
    assert first[0] not in caplog.text  # the secret itself is never logged
    caplog.clear()
    assert development_keys(tmp_path / "var") == first
    assert caplog.text == ""


def test_generated_secrets_are_long_and_distinct() -> None:
    secrets = {generate_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(s) >= 43 for s in secrets)


def test_salts_are_the_contract_and_one_per_purpose() -> None:
    salts = (SALT_CONSENT, SALT_CLICK, SALT_OPEN, SALT_PREFS, SALT_ADMIN)
    assert salts == ("cg.consent", "cg.click", "cg.open", "cg.prefs", "cg.admin")


def test_payloads_are_compact_sorted_json() -> None:
    assert _CompactJSON.dumps({"b": 1, "a": [1, "x y"]}, indent=4) == '{"a":[1,"x y"],"b":1}'
    assert _CompactJSON.loads(b'{"a": 1}') == _CompactJSON.loads('{"a": 1}') == {"a": 1}


def test_a_payload_is_never_compressed_so_the_banner_can_read_it() -> None:
    payload = {"g": ["analytics"] * 200}
    token = make_serializer(("k" * 32,), SALT_CONSENT).dumps(payload)
    body = token.split(".")[0]
    assert not token.startswith(".")  # itsdangerous marks a zlib payload with a leading dot
    assert (
        base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        == _CompactJSON.dumps(payload).encode()
    )


def test_the_newest_key_signs_with_sha256_and_every_key_verifies() -> None:
    old, new = "o" * 32, "n" * 32
    token = make_serializer((old, new), SALT_CLICK).dumps({"a": 1})
    reference = URLSafeTimedSerializer(
        new, salt=SALT_CLICK, signer_kwargs={"digest_method": hashlib.sha256}
    )
    assert reference.loads(token) == {"a": 1}
    older = make_serializer((old,), SALT_CLICK).dumps({"a": 2})
    assert make_serializer((old, new), SALT_CLICK).loads(older) == {"a": 2}
    with pytest.raises(BadSignature):
        make_serializer((new,), SALT_OPEN).loads(token)


def test_a_generated_secret_is_256_bits_of_url_safe_text() -> None:
    secret = generate_secret()
    assert len(secret) == 43
    assert len(base64.urlsafe_b64decode(secret + "=")) == 32


def test_the_development_key_file_is_made_in_a_new_folder_and_read_back_stripped(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "a" / "b"
    (key,) = development_keys(data_dir)
    assert (data_dir / "secret.key").read_text() == key + "\n"
    (data_dir / "secret.key").write_text("  operator-key \n")
    assert development_keys(data_dir) == ("operator-key",)


def test_the_warning_names_the_file_and_the_setting(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway"):
        development_keys(tmp_path)
    [record] = caplog.records
    assert record.name == "gateway"
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f"generated a development secret key in {tmp_path / 'secret.key'}; "
        "set GATEWAY_SECRET_KEYS in production"
    )
