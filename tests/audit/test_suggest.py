"""`--suggest-rules`: a draft rule per undeclared platform, each passing `check-rules`."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from gateway.audit.cookie_database import load_database
from gateway.audit.suggest import suggest_rules, write_suggestions
from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.rules.loader import load_rules
from tests.audit.test_judge import CONFIG, SITE, audit_of, cookie, request, storage

REPO = Path(__file__).resolve().parents[2]


def found_on_a_site() -> list[object]:
    """Hotjar, Clarity, VK and Yandex as a site's pages leave them, plus a PHP session."""
    clarity = cookie("_clck")
    clarity.set_by = "https://www.clarity.ms/s/0.7.47/clarity.js"
    return [
        cookie("_hjSessionUser_3346789"), cookie("_hjSession_3346789"), clarity,
        cookie("CLID", ".www.clarity.ms"), cookie("tmr_lvid"), cookie("PHPSESSID"),
        cookie("_ga"),  # declared by CONFIG's ga4: no draft
        cookie("mystery"),  # unknown to the database: no draft
        storage("_ym_uid", "https://mc.yandex.ru/metrika/tag.js"),
        storage("_ym12345_lastHit", "https://mc.yandex.ru/metrika/tag.js"),
        request("www.clarity.ms", "/tag/abc"), request("mc.yandex.ru", "/watch/1"),
    ]  # fmt: skip


def test_a_draft_per_undeclared_platform(tmp_path: Path) -> None:
    audit = audit_of("accept", *found_on_a_site())  # type: ignore[arg-type]
    drafts = suggest_rules(CONFIG, audit, load_database(), DEFAULT_CATEGORIES)
    by_id = {d.id: tomllib.loads(d.text) for d in drafts}
    assert list(by_id) == ["hotjar", "microsoft_clarity", "vk_top_mail_ru", "php", "yandex_metrica"]
    assert by_id["hotjar"]["cookies"] == ["_hjSessionUser_*", "_hjSession_*"]
    assert by_id["hotjar"]["category"] == "analytics"
    assert by_id["hotjar"]["hit"] == {"mode": "block"}
    assert by_id["hotjar"]["privacy_policy_url"] == "https://www.hotjar.com/legal/policies/privacy/"
    assert by_id["microsoft_clarity"]["cookies"] == ["_clck", "CLID"]
    assert by_id["microsoft_clarity"]["hosts"] == ["www.clarity.ms"]  # setter, cookie domain
    assert by_id["yandex_metrica"]["storage"] == ["_ym_uid", "_ym*"]
    assert by_id["yandex_metrica"]["hosts"] == ["mc.yandex.ru"]
    assert by_id["vk_top_mail_ru"]["cookies"] == ["tmr_lvid"]
    # A framework's session cookie is strictly necessary: disclosed, never blocked.
    assert by_id["php"]["category"] == "necessary"
    assert "hit" not in by_id["php"]
    assert "https://example.invalid/privacy" in by_id["php"]["privacy_policy_url"]

    written = write_suggestions(tmp_path, drafts)
    assert sorted(p.name for p in written.values()) == sorted(f"{i}.toml" for i in by_id)
    rules = load_rules(tmp_path, categories=DEFAULT_CATEGORIES)
    assert sorted(rules) == sorted(by_id)
    # And as the operator checks them: `consent-gateway check-rules` on that folder.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check-rules"],
        env={**environment, "GATEWAY_RULES": str(tmp_path)},
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"5 tag rule(s) in {tmp_path}" in done.stdout


def test_drafts_never_overwrite_and_avoid_taken_ids(tmp_path: Path) -> None:
    audit = audit_of("accept", cookie("_hjSessionUser_1"))
    [draft] = suggest_rules(CONFIG, audit, load_database(), DEFAULT_CATEGORIES)
    (tmp_path / "hotjar.toml").write_text("# the operator's own\n")
    assert write_suggestions(tmp_path, [draft]) == {}
    assert (tmp_path / "hotjar.toml").read_text() == "# the operator's own\n"
    from dataclasses import replace

    from gateway.audit.config import Vendor
    from gateway.rules.name_sets import NameSet

    taken = replace(
        CONFIG, vendors=(*CONFIG.vendors, Vendor("hotjar", "H", "analytics", (), NameSet()))
    )
    [again] = suggest_rules(taken, audit, load_database(), DEFAULT_CATEGORIES)
    assert again.id == "hotjar_2"


def test_nothing_declared_and_nothing_known_means_no_drafts() -> None:
    audit = audit_of("accept", cookie("_ga"), cookie("mystery"), request("cdn.shop.example"))
    assert suggest_rules(CONFIG, audit, load_database(), DEFAULT_CATEGORIES) == []
    assert SITE.startswith("https://")
