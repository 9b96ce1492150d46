"""The preferences layer says where each vendor processes data, in English and Russian (issue 27).

`/consent/details?lang=` carries, per vendor, "Processed in: … (safeguard)" and the description
in the visitor's language; the first layer (`/consent.js`) carries none of it, and a receipt's
texts hash covers it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
from starlette.applications import Starlette

from gateway.banner.config import ShownTexts, VendorInfo, build_banner_config
from gateway.banner.routes import banner_routes
from gateway.configured_banner import configured_banner
from gateway.rules import load_rules
from gateway.rules.transfers import home_region
from gateway.settings import from_keys
from tests.banner.test_size import served_gzip_size

REPO = Path(__file__).resolve().parents[2]
# The preferences layer of the 13 shipped web vendors, transfer lines included, per language.
DETAILS_BUDGET = 3 * 1024
METRICA = VendorInfo(
    "yandex_metrica",
    "Yandex Metrica",
    "analytics",
    "https://yandex.com/legal/confidential/",
    ("_ym_uid",),
    "Visit statistics.",
    descriptions=(("ru", "Статистика посещений."),),
    locations=("RU",),
    safeguards=(("RU", "scc"),),
)
META = VendorInfo(
    "meta_pixel",
    "Meta Pixel",
    "marketing",
    "https://www.facebook.com/privacy/policy/",
    locations=("IE", "US"),
    safeguards=(("US", "dpf"),),
)


def config_with(*vendors: VendorInfo, **options: object) -> dict[str, object]:
    return build_banner_config(
        public_url="https://consent.example.com",
        policy_revision=1,
        policy_url="/privacy",
        categories=("necessary", "analytics", "marketing"),
        vendors=vendors,
        **options,  # type: ignore[arg-type]
    )


async def get(config: dict[str, object], path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=Starlette(routes=banner_routes(config)))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        return await http.get(path)


async def test_each_vendor_says_where_in_english_and_russian() -> None:
    config = config_with(METRICA, META)
    en = (await get(config, "/consent/details?lang=en")).json()["vendors"]
    ru = (await get(config, "/consent/details?lang=ru")).json()["vendors"]
    assert en["yandex_metrica"]["processedIn"] == (
        "Processed in: Russia (standard contractual clauses)"
    )
    assert ru["yandex_metrica"]["processedIn"] == (
        "Где обрабатываются данные: Россия (стандартные договорные условия)"
    )
    assert en["meta_pixel"]["processedIn"] == (
        "Processed in: Ireland; United States (EU–US Data Privacy Framework)"
    )
    assert ru["meta_pixel"]["processedIn"].startswith("Где обрабатываются данные: Ирландия; ")
    assert (en["yandex_metrica"]["description"], ru["yandex_metrica"]["description"]) == (
        "Visit statistics.",
        "Статистика посещений.",
    )
    # A language the vendor has no description in falls back to English; the line to English
    # country names with the operator's texts.
    de = config_with(METRICA, text_overrides={"de": {"processed_in": "Verarbeitet in: %s"}})
    got = (await get(de, "/consent/details?lang=de")).json()["vendors"]["yandex_metrica"]
    assert got["description"] == "Visit statistics."
    assert got["processedIn"] == "Verarbeitet in: Russland (standard contractual clauses)"


async def test_the_home_region_decides_which_safeguards_are_shown() -> None:
    config = config_with(METRICA, META, home=home_region("RU"))
    en = (await get(config, "/consent/details?lang=en")).json()["vendors"]
    assert en["yandex_metrica"]["processedIn"] == "Processed in: Russia"
    # The rule's safeguards were written for the EEA: IE has none, so none is invented.
    assert en["meta_pixel"]["processedIn"] == (
        "Processed in: Ireland; United States (EU–US Data Privacy Framework)"
    )


async def test_the_first_layer_is_untouched_by_transfer_data() -> None:
    bare = [
        dataclasses.replace(v, descriptions=(), locations=(), safeguards=())
        for v in (METRICA, META)
    ]
    with_transfers = (await get(config_with(METRICA, META), "/consent.js")).content
    assert with_transfers == (await get(config_with(*bare), "/consent.js")).content
    assert b"Russia" not in with_transfers


def test_a_receipt_hash_covers_the_transfer_lines() -> None:
    before = ShownTexts(config_with(METRICA, META))
    moved = dataclasses.replace(
        METRICA, locations=("RU", "KZ"), safeguards=(("RU", "scc"), ("KZ", "consent"))
    )
    after = ShownTexts(config_with(moved, META))
    for language in ("en", "ru"):
        assert before(language).texts_hash != after(language).texts_hash
    # ... and the Russian description: another text, another proof.
    reworded = dataclasses.replace(METRICA, descriptions=(("ru", "Другое."),))
    assert ShownTexts(config_with(reworded, META))("ru") != before("ru")
    assert ShownTexts(config_with(reworded, META))("en") == before("en")


async def test_the_shipped_preferences_layer_stays_within_its_budget() -> None:
    settings = from_keys(public_url="https://consent.example.com", policy_url="/privacy")
    rules = load_rules(REPO / "tag_rules", categories=settings.consent.categories)
    config = configured_banner(settings, rules)
    app = Starlette(routes=banner_routes(config))
    web = {rule.id for rule in rules.values() if rule.platform == "web"}
    assert len(web) == 13
    for language in ("en", "ru"):
        vendors = (await get(config, f"/consent/details?lang={language}")).json()["vendors"]
        assert set(vendors) == web
        assert all(about["processedIn"] for about in vendors.values())
        size = await served_gzip_size(app, f"/consent/details?lang={language}")
        print(f"gzip size: /consent/details?lang={language} {size} B of {DETAILS_BUDGET} B")
        assert size <= DETAILS_BUDGET
