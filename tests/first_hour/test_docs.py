"""`docs/getting-started.md` stays true: its config loads as documented, and it lists exactly
the banner's text keys."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.banner.texts import TEXTS
from gateway.settings import load_settings
from tests.conftest import REPO

GUIDE = REPO / "docs" / "getting-started.md"


def test_the_documented_config_loads_as_described(tmp_path: Path) -> None:
    [config] = re.findall(r"```toml\n(.*?)```", GUIDE.read_text(), re.S)
    path = tmp_path / "gateway.toml"
    path.write_text(config)
    settings = load_settings(path, environ={})
    assert settings.rules.vendors == ("ga4", "meta_pixel")
    assert settings.consent.allowed_origins == ("https://www.example.com",)
    assert settings.consent.url_for("ru") == "https://www.example.com/ru/privacy"
    assert settings.consent.url == "https://www.example.com/privacy"
    assert settings.site.public_url == "https://consent.example.com"


def test_the_guide_lists_every_banner_text_key() -> None:
    section = GUIDE.read_text().split("## 5. Languages")[1].split("## 6.")[0]
    documented = set(re.findall(r"`([a-z_]+)`", section))
    keys = {key for key in TEXTS["en"] if not key.startswith("category_")}
    assert keys <= documented, keys - documented
