"""Settings: file, environment, types, and one clear line for every mistake."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.errors import ConfigError
from gateway.settings import from_keys, load_settings

KEY = "k" * 40


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings(environ={})
    assert settings.store.url == "sqlite:///var/gateway.sqlite3"
    assert settings.consent.revision == 1
    assert settings.site.public_url == "http://127.0.0.1:8000"
    assert settings.consent.consent_days == 180
    assert settings.consent.categories == ("necessary", "preferences", "analytics", "marketing")


def test_file_then_environment(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        'policy_revision = 4\nallowed_origins = ["https://a.example"]\ncookie_domain = "example.com"\n'
    )
    settings = load_settings(
        config, {"GATEWAY_POLICY_REVISION": "5", "GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}
    )
    assert settings.consent.revision == 5
    assert settings.consent.allowed_origins == ("https://a.example",)
    assert settings.consent.cookie_domain == "example.com"
    assert settings.network.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("127.0.0.1/32"),
    )


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("policy_revision = 9\n")
    assert load_settings(environ={"GATEWAY_CONFIG": str(config)}).consent.revision == 9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("polcy_revision = 2\n", "c.toml: polcy_revision: unknown setting"),
        ('policy_revision = "two"\n', "c.toml: policy_revision: expected an integer, got 'two'"),
        ("allowed_origins = 3\n", "c.toml: allowed_origins: expected a list of strings, got 3"),
        (
            "allow_insecure_upstreams = 1\n",
            "c.toml: allow_insecure_upstreams: expected true or false, got 1",
        ),
        ("policy_revision = 0\n", "c.toml: policy_revision: expected an integer ≥ 1, got 0"),
        ("consent_days = 400\n", "c.toml: consent_days: expected 1 to 395 days, got 400"),
        (
            'allowed_origins = ["https://a.example/path"]\n',
            "c.toml: allowed_origins: expected origins like",
        ),
        ('store = "mysql://x"\n', "c.toml: store: expected sqlite://"),
        ('trusted_proxies = ["not-an-ip"]\n', "c.toml: trusted_proxies: expected IP addresses"),
        (
            'env = "staging"\n',
            "c.toml: env: expected one of development, production, got 'staging'",
        ),
        ("policy_revision = [\n", "c.toml: (syntax): invalid TOML"),
    ],
)
def test_every_mistake_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config, {})
    message = str(caught.value).replace(str(tmp_path) + "/", "")
    assert message.startswith(expected)
    assert "\n" not in message


def test_unknown_environment_variable_is_named() -> None:
    with pytest.raises(ConfigError, match="environment: GATEWAY_POLICY_REVISON: unknown setting"):
        load_settings(environ={"GATEWAY_POLICY_REVISON": "2"})


def test_bad_environment_value_is_named() -> None:
    with pytest.raises(
        ConfigError, match="environment GATEWAY_CONSENT_DAYS: consent_days: expected an integer"
    ):
        load_settings(environ={"GATEWAY_CONSENT_DAYS": "soon"})


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.toml: \(file\): no such file"):
        load_settings(tmp_path / "nope.toml", {})


def test_production_refuses_to_start_without_secret_keys() -> None:
    with pytest.raises(ConfigError, match="GATEWAY_SECRET_KEYS is required"):
        load_settings(environ={"GATEWAY_ENV": "production"})
    assert load_settings(
        environ={"GATEWAY_ENV": "production", "GATEWAY_SECRET_KEYS": KEY}
    ).site.secret_keys == (KEY,)


def test_short_secret_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_settings(environ={"GATEWAY_SECRET_KEYS": "short"})


def test_secrets_never_appear_in_repr() -> None:
    settings = from_keys(secret_keys=(KEY,), admin_token_hashes=("a" * 64,))
    assert KEY not in repr(settings)
    assert "a" * 64 not in repr(settings)


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})
    with pytest.raises(AttributeError):
        settings.consent.revision = 3  # type: ignore[misc]


def test_cookie_secure_follows_the_public_url() -> None:
    assert not from_keys(public_url="http://127.0.0.1:8000").site.cookie_secure
    assert from_keys(public_url="https://consent.example.com").site.cookie_secure


def test_banner_texts_from_a_toml_table_or_json_in_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[banner_texts.ru]\ntitle = "Ваш выбор"\n')
    assert load_settings(config, {}).banner.text_overrides == {"ru": {"title": "Ваш выбор"}}
    from_env = load_settings(environ={"GATEWAY_BANNER_TEXTS": '{"en": {"title": "Hi"}}'})
    assert from_env.banner.text_overrides == {"en": {"title": "Hi"}}
    with pytest.raises(
        ConfigError, match="GATEWAY_BANNER_TEXTS: banner_texts: expected a JSON object"
    ):
        load_settings(environ={"GATEWAY_BANNER_TEXTS": "title=Hi"})
    hash(from_env)  # settings stay hashable


def test_each_part_carries_its_own_fields_and_no_secret() -> None:
    from dataclasses import fields

    settings = from_keys(
        secret_keys=("s" * 40,),
        admin_token_hashes=("a" * 64,),
        policy_revision=4,
        policy_url="https://www.example.com/privacy",
        email_target_hosts=("www.example.com",),
        email_min_click_seconds=3.0,
        geo_header="CF-IPCountry",
    )
    assert (settings.consent.revision, settings.consent.url) == (
        4,
        "https://www.example.com/privacy",
    )
    assert settings.consent.categories == DEFAULT_CATEGORIES
    assert (settings.email.target_hosts, settings.email.min_click_seconds) == (
        ("www.example.com",),
        3.0,
    )
    assert settings.network.geo_header == "CF-IPCountry"
    for part in (settings.consent, settings.email, settings.network):
        names = {f.name for f in fields(part)}
        assert not names & {"secret_keys", "keys", "admin_token_hashes", "metrics_token_hashes"}
        assert "s" * 40 not in repr(part)
