"""The privacy policy per language: `[policy_url] en = … ru = …` (a single URL still works);
the banner links the visitor's language's policy and the receipt cites it (issue 30)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.app import app_for
from gateway.errors import ConfigError
from gateway.runtime import Gateway
from gateway.settings import load_settings
from tests.conftest import SITE, serving

EN, RU = f"{SITE}/privacy", f"{SITE}/ru/privacy"
URLS = (("en", EN), ("ru", RU))


def test_a_table_in_the_config_file_or_json_in_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(f'[policy_url]\nen = "{EN}"\nru = "{RU}"\n')
    from_file = load_settings(config, environ={})
    assert from_file.consent.urls == URLS
    assert from_file.consent.url == EN  # the fallback: English
    assert from_file.consent.url_for("ru") == RU
    assert from_file.consent.url_for("de") == EN
    from_env = load_settings(environ={"GATEWAY_POLICY_URL": f'{{"ru": "{RU}", "en": "{EN}"}}'})
    assert from_env.consent.urls == URLS
    single = load_settings(environ={"GATEWAY_POLICY_URL": EN})
    assert (single.consent.url, single.consent.urls, single.consent.url_for("ru")) == (EN, (), EN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[policy_url]\nEnglish = "https://x.example/p"\n', "expected language codes"),
        ("[policy_url]\nen = 3\n", "expected a URL, or a table"),
        ('[policy_url]\nen = "http://[::1"\n', "expected a URL"),
    ],
)
def test_a_bad_policy_table_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match="policy_url") as error:
        load_settings(config, environ={})
    assert expected in str(error.value)


async def test_the_banner_and_the_receipt_use_the_visitors_language(make_settings) -> None:
    gateway = Gateway.build(make_settings(policy_url=EN, policy_urls=URLS))
    app = app_for(gateway)
    config: Any = gateway.banner_config  # the JSON the banner is given
    assert config["texts"]["ru"]["policy_url"] == RU
    assert config["texts"]["en"]["policy_url"] == EN
    assert all(t["policy_url"] == EN for lang, t in config["texts"].items() if lang != "ru")
    async with serving(app) as http:
        script = (await http.get("/consent.js")).text
        receipts = []
        for language in ("ru", "en"):
            http.cookies.clear()  # two visitors
            answer = await http.post(
                "/consent", json={"action": "accept_all", "language": language},
                headers={"Origin": SITE},
            )  # fmt: skip
            receipts += await gateway.store.receipts.subject_receipts(
                answer.json()["consent"]["id"]
            )
    assert RU in script
    assert [(r.language, r.policy_url) for r in receipts] == [("ru", RU), ("en", EN)]
