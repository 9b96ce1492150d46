"""The demo page's words in English and Russian (`/demo?lang=ru`); the banner has its own."""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "ru")

_EN: dict[str, Any] = {
    "title": "Northwind Supply — consent-gateway demo",
    "brand": "Northwind Supply",
    "badge": "demo",
    "nav_services": "Services",
    "nav_about": "About",
    "cookie_settings": "Cookie settings",
    "kicker": "A consent-gateway demo",
    "hero_title": "Supply chains that hold.",
    "hero_text": (
        "This sample site is wired to the gateway exactly as yours would be: one script tag"
        " first in the head, tags that wait for consent, and a pixel that goes through the"
        " gateway. Make a choice in the banner and watch what runs."
    ),
    "consent_heading": "Your consent, live",
    "consent_intro": (
        "Read with window.consentGateway.get() and updated on every consent:change event."
    ),
    "status_label": "Status",
    "allowed": "Allowed",
    "refused": "Refused",
    "consent_id": "Consent id",
    "chosen_at": "Chosen at",
    "revision": "Policy revision",
    "gpc": "Global Privacy Control",
    "test_analytics": "Send a test analytics hit",
    "test_marketing": "Send a test marketing hit",
    "receipts": "My consent receipts",
    "health": "Gateway health",
    "ready": "Readiness",
    "tags_heading": "Tags on this page",
    "tags_intro": "Each one stays inert until its category is allowed, then runs exactly once.",
    "tag_analytics": "Analytics script",
    "tag_marketing": "Marketing script",
    "tag_pixel": "GA4 pixel",
    "tag_video": "Product tour video",
    "category_analytics": "Analytics",
    "category_marketing": "Marketing",
    "video_heading": "Product tour",
    "video_blocked": (
        "These embeds load from other platforms, so each waits behind a placeholder until you"
        " allow its provider, or load it just once."
    ),
    "map_title": "Our office",
    "map_text": "A stand-in for a map that would send your IP address to its tile servers.",
    "wiring_embed": "An embed that waits for its provider (a placeholder meanwhile).",
    "wiring_notice": "reCAPTCHA's notice, in the banner's language.",
    "offer": "Personalised offer: 10% off your first supply-chain audit.",
    "offer_note": "Shown by the marketing tag — you allowed marketing.",
    "wiring_heading": "How this page is wired",
    "wiring_banner": "The banner: one tag, first in the head.",
    "wiring_script": "A tag that waits for analytics consent.",
    "wiring_pixel": "A pixel through the gateway, decided by tag_rules/ga4.toml.",
    "wiring_reopen": "A way back to the choices, anywhere on the page.",
    "footer": (
        "Everything here is served by this gateway under a strict Content-Security-Policy;"
        " nothing loads from anywhere else."
    ),
    "wrong_host": (
        "This page was opened on another address than the gateway's public URL, so the"
        " banner cannot reach its API from here. Open the demo at"
    ),
    "embed_title": "Product tour — 2:41",
    "embed_text": "A stand-in for a video player that would set marketing cookies.",
    "script": {
        "none": "No choice yet — the banner is waiting for you.",
        "saved": "Choice saved",
        "blocked": "Blocked",
        "ran": "Ran",
        "loaded": "Loaded",
        "on": "signal sent: marketing stays off",
        "off": "not sent",
        "nothing": "—",
        "sending": "Sending…",
        "forward": "forwarded to the vendor, with identifiers (you consented)",
        "anonymous": "forwarded anonymously: no cookies, no identifiers, truncated IP",
        "redirect": "redirected to the vendor (you consented)",
        "block": "blocked: nothing reaches the vendor",
        "error": "the gateway did not answer",
        "necessary": "Strictly necessary",
        "preferences": "Preferences",
        "analytics": "Analytics",
        "marketing": "Marketing",
    },
}

_RU: dict[str, Any] = {
    "title": "Northwind Supply — демо consent-gateway",
    "brand": "Northwind Supply",
    "badge": "демо",
    "nav_services": "Услуги",
    "nav_about": "О нас",
    "cookie_settings": "Настройки cookie",
    "kicker": "Демонстрация consent-gateway",
    "hero_title": "Цепочки поставок, которые выдерживают.",
    "hero_text": (
        "Этот пример сайта подключён к шлюзу так же, как будет подключён ваш: один тег script"
        " первым в head, теги, которые ждут согласия, и пиксель, который идёт через шлюз."
        " Сделайте выбор в баннере и посмотрите, что запустится."
    ),
    "consent_heading": "Ваше согласие сейчас",
    "consent_intro": (
        "Читается через window.consentGateway.get() и обновляется при каждом событии"
        " consent:change."
    ),
    "status_label": "Статус",
    "allowed": "Разрешено",
    "refused": "Отклонено",
    "consent_id": "Идентификатор согласия",
    "chosen_at": "Время выбора",
    "revision": "Редакция политики",
    "gpc": "Global Privacy Control",
    "test_analytics": "Отправить тестовое событие аналитики",
    "test_marketing": "Отправить тестовое маркетинговое событие",
    "receipts": "Мои записи о согласии",
    "health": "Состояние шлюза",
    "ready": "Готовность",
    "tags_heading": "Теги на этой странице",
    "tags_intro": "Каждый бездействует, пока его категория не разрешена, а затем срабатывает один раз.",
    "tag_analytics": "Скрипт аналитики",
    "tag_marketing": "Маркетинговый скрипт",
    "tag_pixel": "Пиксель GA4",
    "tag_video": "Видео о продукте",
    "category_analytics": "Аналитика",
    "category_marketing": "Маркетинг",
    "video_heading": "Обзор продукта",
    "video_blocked": (
        "Это содержимое загружается с других платформ, поэтому до вашего разрешения вместо"
        " него показана заглушка; его можно и загрузить один раз."
    ),
    "map_title": "Наш офис",
    "map_text": "Заглушка карты, которая передавала бы ваш IP-адрес серверам карт.",
    "wiring_embed": "Встроенное содержимое ждёт разрешения для своего сервиса.",
    "wiring_notice": "Уведомление reCAPTCHA на языке баннера.",
    "offer": "Персональное предложение: скидка 10% на первый аудит цепочки поставок.",
    "offer_note": "Показано маркетинговым тегом — вы разрешили маркетинг.",
    "wiring_heading": "Как устроена эта страница",
    "wiring_banner": "Баннер: один тег, первым в head.",
    "wiring_script": "Тег, который ждёт согласия на аналитику.",
    "wiring_pixel": "Пиксель через шлюз; решение по правилу tag_rules/ga4.toml.",
    "wiring_reopen": "Путь обратно к настройкам — в любом месте страницы.",
    "footer": (
        "Всё на этой странице отдаёт сам шлюз под строгой Content-Security-Policy;"
        " ничего не загружается с других адресов."
    ),
    "wrong_host": (
        "Страница открыта не по публичному адресу шлюза, поэтому баннер не может обратиться"
        " к своему API. Откройте демо по адресу"
    ),
    "embed_title": "Обзор продукта — 2:41",
    "embed_text": "Заглушка видеоплеера, который ставил бы маркетинговые cookie.",
    "script": {
        "none": "Выбор ещё не сделан — баннер ждёт вас.",
        "saved": "Выбор сохранён",
        "blocked": "Заблокирован",
        "ran": "Сработал",
        "loaded": "Загружен",
        "on": "сигнал отправлен: маркетинг выключен",
        "off": "не отправлен",
        "nothing": "—",
        "sending": "Отправка…",
        "forward": "передано поставщику с идентификаторами (вы согласились)",
        "anonymous": "передано анонимно: без cookie и идентификаторов, IP усечён",
        "redirect": "перенаправлено к поставщику (вы согласились)",
        "block": "заблокировано: поставщик ничего не получает",
        "error": "шлюз не ответил",
        "necessary": "Строго необходимые",
        "preferences": "Предпочтения",
        "analytics": "Аналитика",
        "marketing": "Маркетинг",
    },
}

_TEXTS = {"en": _EN, "ru": _RU}


def texts_for(language: str) -> dict[str, Any]:
    """The demo's texts in `language` (one of `LANGUAGES`), English otherwise."""
    return _TEXTS.get(language, _EN)
