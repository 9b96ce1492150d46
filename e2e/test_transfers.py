"""The preferences layer shows where each vendor processes data, in English and Russian (issue 27)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from e2e.browsing import STILL, problems
from e2e.conftest import SCREENSHOTS, Visit
from e2e.site import Site

LINES = {
    "en": (
        "Customise",
        "Providers (4)",
        "Processed in: Russia (standard contractual clauses)",
        "Processed in: United States (EU–US Data Privacy Framework)",
    ),
    "ru": (
        "Настроить",
        "Сервисы (4)",
        "Где обрабатываются данные: Россия (стандартные договорные условия)",
        "Где обрабатываются данные: Соединенные Штаты (Рамочная программа ЕС–США о"
        " конфиденциальности данных (DPF))",
    ),
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_each_vendor_says_where_it_processes_data(
    visit: Visit, site: Site, language: str
) -> None:
    customise, providers, metrica, ga4 = LINES[language]
    page = await visit(site.www + ("/ru" if language == "ru" else "/"), **STILL)
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name=customise).click()
    await dialog.get_by_text(providers).click()  # the analytics vendors
    analytics = dialog.locator(".cg-r", has=page.get_by_text(providers))
    metrica_row = analytics.locator("li", has_text="Yandex Metrica")
    await expect(metrica_row).to_contain_text(metrica)
    await expect(analytics.locator("li", has_text="Google Analytics 4")).to_contain_text(ga4)
    if language == "ru":
        await expect(metrica_row).to_contain_text("Статистика посещений и цели")
    await metrica_row.scroll_into_view_if_needed()
    await page.screenshot(path=SCREENSHOTS / f"preferences-transfers-{language}.png")
    assert await problems(page) == []
