"""Banner texts in every built-in language; receipts record a hash of the texts shown.

Every string the banner shows is here, keyed the same in each language. Operators override
any of them per language in config (see `gateway.banner.config`); a category added by the
operator gets its label and description from `category_<id>` and `category_<id>_description`.
"""

from __future__ import annotations

from functools import cache

from gateway.receipts.shown import hash_texts
from gateway.rules.transfers import SAFEGUARD_TEXTS

__all__ = ["DEFAULT_LANGUAGE", "TEXTS", "hash_texts", "resolve_language", "texts_hash"]

DEFAULT_LANGUAGE = "en"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your privacy choices",
        "description": (
            "We use cookies and similar technologies, such as pixels, that this site needs to"
            " work. With your consent, we also use them to remember your settings, measure how"
            " the site is used and for marketing. You can change or withdraw consent at any time."
        ),
        "policy_link": "Privacy policy",
        "accept_all": "Accept all",
        "reject_all": "Reject all",
        "customise": "Customise",
        "save": "Save choices",
        "preferences_title": "Privacy preferences",
        "preferences_description": (
            "Choose what you agree to. Strictly necessary technologies are always on: the site"
            " cannot work without them."
        ),
        "close": "Close",
        "always_on": "Always on",
        "vendors": "Providers",
        "cookies": "Cookies",
        "gpc_notice": (
            "Your browser sends a Global Privacy Control signal, so marketing stays off."
        ),
        "withdraw": "Withdraw consent",
        "saved": "Your choices have been saved.",
        "withdrawn": "Consent withdrawn; the related cookies were deleted.",
        "error": "Your choice could not be saved. Please try again.",
        "settings": "Privacy settings",
        "terms": "Terms",
        "embed": "Loading it sends your IP address and browser details to %s.",
        "load_once": "Load once",
        "always_allow": "Always allow %s",
        "category_necessary": "Strictly necessary",
        "category_necessary_description": ("Security and remembering your privacy choices."),
        "category_preferences": "Preferences",
        "category_preferences_description": "Remember settings such as language and region.",
        "category_analytics": "Analytics",
        "category_analytics_description": (
            "Partly depersonalised statistics on how the site is used, to improve it."
        ),
        "category_marketing": "Marketing",
        "category_marketing_description": (
            "Measure our ads and show you relevant offers on other sites."
        ),
        # Per vendor in the preferences layer: "Processed in: Ireland; United States (…)".
        "processed_in": "Processed in: %s",
        **{f"safeguard_{key}": name for key, name in SAFEGUARD_TEXTS["en"].items()},
    },
    "ru": {
        "title": "Ваша конфиденциальность",
        "description": (
            "Мы используем cookie и похожие технологии, например пиксели, без которых сайт не"
            " работает. С вашего согласия мы также применяем их, чтобы запоминать ваши"
            " настройки, анализировать посещаемость и для маркетинга. Согласие можно изменить"
            " или отозвать в любой момент."
        ),
        "policy_link": "Политика конфиденциальности",
        "accept_all": "Принять все",
        "reject_all": "Отклонить все",
        "customise": "Настроить",
        "save": "Сохранить выбор",
        "preferences_title": "Настройки конфиденциальности",
        "preferences_description": (
            "Выберите, на что вы согласны. Строго необходимые технологии включены всегда: без"
            " них сайт не работает."
        ),
        "close": "Закрыть",
        "always_on": "Всегда включено",
        "vendors": "Сервисы",
        "cookies": "Cookie",
        "gpc_notice": (
            "Ваш браузер передал сигнал Global Privacy Control, поэтому маркетинг отключён."
        ),
        "withdraw": "Отозвать согласие",
        "saved": "Ваш выбор сохранён.",
        "withdrawn": "Согласие отозвано, связанные cookie удалены.",
        "error": "Не удалось сохранить выбор. Попробуйте ещё раз.",
        "settings": "Настройки конфиденциальности",
        "terms": "Условия",
        "embed": "При загрузке %s получит ваш IP-адрес и данные браузера.",
        "load_once": "Загрузить один раз",
        "always_allow": "Всегда разрешать %s",
        "category_necessary": "Строго необходимые",
        "category_necessary_description": ("Безопасность и запоминание вашего выбора."),
        "category_preferences": "Предпочтения",
        "category_preferences_description": "Запоминают настройки, например язык и регион.",
        "category_analytics": "Аналитика",
        "category_analytics_description": (
            "Частично обезличенная статистика посещений для улучшения сайта."
        ),
        "category_marketing": "Маркетинг",
        "category_marketing_description": (
            "Оценка нашей рекламы и подходящие предложения на других сайтах."
        ),
        "processed_in": "Где обрабатываются данные: %s",
        **{f"safeguard_{key}": name for key, name in SAFEGUARD_TEXTS["ru"].items()},
    },
}


def resolve_language(requested: str | None) -> str:
    """The built-in language closest to `requested` (`ru-RU` → `ru`), else English."""
    if requested:
        primary = requested.strip().lower().replace("_", "-").split("-", 1)[0]
        if primary in TEXTS:
            return primary
    return DEFAULT_LANGUAGE


@cache
def texts_hash(language: str) -> str:
    """SHA-256 of the built-in texts of `language` (what is shown without overrides)."""
    return hash_texts(TEXTS[resolve_language(language)])
