"""Settings in sections: every key is read the same written flat (`policy_revision = 3`), in its
table (`[consent] revision = 3`) or from its `GATEWAY_*` variable, and a mistake in a table
names the key as the file wrote it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import ConfigError
from gateway.settings import KEYS, SECTIONS, load_settings
from gateway.settings.keys import Key

SAMPLES: dict[str, Any] = {  # a value other than the default, for the keys that have a range
    "policy_revision": 7,
    "consent_days": 30,
    "delivery_shards": 3,
    "delivery_client_share": 0.25,
    "email_min_click_seconds": 2.5,
    "admin_session_minutes": 60,
    "receipt_retention_days": 400,
    "purge_interval_seconds": 120.0,
    "store_timeout_seconds": 0.5,
    "banner_texts": (("en", (("title", "Hi"),)),),
}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):  # per language
        tables = []
        for language, texts in value:
            inner = ", ".join(f"{k} = {json.dumps(text)}" for k, text in texts)
            tables.append(f"{language} = {{ {inner} }}")
        return "{ " + ", ".join(tables) + " }"
    if isinstance(value, tuple):
        return json.dumps([str(item) for item in value])
    return json.dumps("" if value is None else str(value))


def sample(declared: Key) -> Any:
    return SAMPLES.get(declared.flat, declared.default)


@pytest.mark.parametrize("flat", list(KEYS))
def test_each_key_reads_the_same_flat_or_in_its_table(tmp_path: Path, flat: str) -> None:
    declared = KEYS[flat]
    value = toml_value(sample(declared))
    flat_file, table_file = tmp_path / "flat.toml", tmp_path / "table.toml"
    flat_file.write_text(f"{flat} = {value}\n", encoding="utf-8")
    table_file.write_text(f"[{declared.section}]\n{declared.name} = {value}\n", encoding="utf-8")
    from_flat = load_settings(flat_file, environ={})
    from_table = load_settings(table_file, environ={})
    assert from_flat == from_table
    read = getattr(getattr(from_table, declared.section), declared.name)
    if flat in SAMPLES:
        assert read == SAMPLES[flat] != declared.default


def test_a_sectioned_file_like_the_documented_flat_one(tmp_path: Path) -> None:
    flat = tmp_path / "flat.toml"
    flat.write_text(
        'store = "redis://127.0.0.1:6379/0"\npolicy_revision = 3\n'
        'trusted_proxies = ["127.0.0.1"]\ndelivery_shards = 2\n[banner_texts.en]\ntitle = "Hi"\n',
        encoding="utf-8",
    )
    sectioned = tmp_path / "sectioned.toml"
    sectioned.write_text(
        '[store]\nurl = "redis://127.0.0.1:6379/0"\n[consent]\nrevision = 3\n'
        '[network]\ntrusted_proxies = ["127.0.0.1"]\n[delivery]\nshards = 2\n'
        '[banner.texts.en]\ntitle = "Hi"\n',
        encoding="utf-8",
    )
    settings = load_settings(sectioned, environ={})
    assert settings == load_settings(flat, environ={})
    assert (settings.store.url, settings.consent.revision) == ("redis://127.0.0.1:6379/0", 3)
    assert settings.delivery.shards == 2
    assert settings.banner.text_overrides == {"en": {"title": "Hi"}}


def test_the_flat_variable_overrides_the_table(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[delivery]\nconcurrency = 8\n", encoding="utf-8")
    settings = load_settings(config, {"GATEWAY_DELIVERY_CONCURRENCY": "16"})
    assert settings.delivery.concurrency == 16


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[consent]\nconsent_days = 400\n", "c.toml: consent.consent_days: expected 1 to 395 days"),
        ("[consent]\nrevison = 2\n", "c.toml: consent.revison: unknown setting (known: revision,"),
        ("[delivery]\nshards = 65\n", "c.toml: delivery.shards: expected 1 to 64, got 65"),
        ("[store]\ntimeout_seconds = 0\n", "c.toml: store.timeout_seconds: expected 0.05 to 60"),
        ('[store]\nurl = "mysql://x"\n', "c.toml: store.url: expected sqlite://"),
        ("[site]\ndemo = 3\n", "c.toml: site.demo: expected true or false, got 3"),
        (
            "policy_revision = 2\n[consent]\nrevision = 3\n",
            "c.toml: consent.revision: set twice (also as policy_revision): keep one",
        ),
        ("[nowhere]\nkey = 1\n", "c.toml: nowhere: unknown setting (known: env,"),
    ],
)
def test_a_mistake_in_a_table_names_the_key_as_written(
    tmp_path: Path, text: str, expected: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, {})
    assert str(caught.value).replace(str(tmp_path) + "/", "").startswith(expected)
    assert "\n" not in str(caught.value)


def test_each_key_has_one_flat_name_and_one_variable() -> None:
    variables = [declared.variable for declared in KEYS.values()]
    assert len(set(variables)) == len(variables) == len(KEYS)
    written = {(declared.section, declared.name) for declared in KEYS.values()}
    assert len(written) == len(KEYS)
    assert {declared.section for declared in KEYS.values()} == set(SECTIONS)


def test_sections_are_built_once_not_per_access() -> None:
    settings = load_settings(environ={"GATEWAY_PUBLIC_URL": "https://consent.example.com/"})
    assert settings.consent is settings.consent
    assert settings.email is settings.email
    assert settings.site.public_origin == "https://consent.example.com"
    assert settings.site.cookie_secure
    with pytest.raises(AttributeError):
        settings.delivery.shards = 2  # type: ignore[misc]


def test_paths_and_policy_urls_in_tables_are_read_as_their_flat_keys(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "c.toml"
    config.parent.mkdir()
    config.write_text(
        '[rules]\nfolder = "rules"\n[site]\ndata_dir = "data"\n'
        '[consent.url]\nen = "https://x.example/p"\nru = "https://x.example/ru/p"\n',
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    assert settings.rules.folder == config.parent / "rules"  # beside the file, not the cwd
    assert settings.site.data_dir == config.parent / "data"
    assert settings.store.url == f"sqlite:///{config.parent / 'data' / 'gateway.sqlite3'}"
    assert settings.consent.url == "https://x.example/p"  # English is the fallback
    assert settings.consent.url_for("ru") == "https://x.example/ru/p"
