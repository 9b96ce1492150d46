"""The generated reference pages are what the declarations say today, and the docs' TOML
examples are settings and rules the gateway accepts."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.rules import load_rules
from gateway.settings import load_settings
from tests.conftest import REPO, SECRET

DOCS = REPO / "docs"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("page", ["configuration-reference.md", "rule-keys.md"])
def test_the_generated_pages_are_up_to_date(page: str) -> None:
    docs = generator()
    written = (DOCS / page).read_text(encoding="utf-8")
    assert written == getattr(docs, docs.PAGES[page])(), (
        f"docs/{page} is stale: run .venv/bin/python docs/generate.py"
    )


def test_every_setting_and_only_those_are_documented() -> None:
    page = (DOCS / "configuration-reference.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `GATEWAY_(\w+)` \|", page, re.M))
    from gateway.settings import KEYS

    assert {name.lower() for name in documented} == set(KEYS)


def test_a_setting_without_a_meaning_stops_the_generator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    docs = generator()
    meanings = (DOCS / "reference.toml").read_text(encoding="utf-8")
    (tmp_path / "reference.toml").write_text(
        re.sub(r"^store_timeout_seconds = .*\n", "", meanings, flags=re.M),
        encoding="utf-8",
    )
    monkeypatch.setattr(docs, "MEANINGS", tmp_path / "reference.toml")
    with pytest.raises(docs.ReferenceError, match="describe store_timeout_seconds"):
        docs.configuration_page()


def test_a_meaning_for_a_rule_key_that_does_not_exist_stops_the_generator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    docs = generator()
    meanings = (DOCS / "reference.toml").read_text(encoding="utf-8")
    stale = meanings.replace("[hit]\n", '[hit]\nretired_key = ["—", "gone"]\n')
    (tmp_path / "reference.toml").write_text(stale, encoding="utf-8")
    monkeypatch.setattr(docs, "MEANINGS", tmp_path / "reference.toml")
    with pytest.raises(docs.ReferenceError, match="nothing declares retired_key"):
        docs.rule_keys_page()


def toml_blocks(page: str) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", (DOCS / page).read_text(encoding="utf-8"), re.S)


def test_the_configuration_example_is_accepted(tmp_path: Path) -> None:
    (example,) = toml_blocks("configuration.md")
    path = tmp_path / "gateway.toml"
    path.write_text(example, encoding="utf-8")
    settings = load_settings(path, environ={"GATEWAY_SECRET_KEYS": SECRET})
    assert settings.site.env == "production"
    assert settings.site.cookie_secure
    assert settings.banner.text_overrides["en"]["title"] == "Your privacy"


def test_the_rule_example_loads(tmp_path: Path) -> None:
    (example,) = toml_blocks("tag-rules.md")
    (tmp_path / "acme.toml").write_text(example, encoding="utf-8")
    rules = load_rules(tmp_path, categories=DEFAULT_CATEGORIES)
    assert rules["acme"].hit.without_consent == "anonymous"
    assert tomllib.loads(example)["hit"]["fixed_params"] == {"site": "42"}
