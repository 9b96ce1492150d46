"""The pages of form consent, in the recipient's language: confirm a subscription (`/f/`),
unsubscribe (`/u/`). Strict like the preferences page: no scripts, one hashed stylesheet, forms
that post only to the page itself. A GET never changes anything (link scanners follow links):
the person presses the button.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.email.pages import PAGES

LANGUAGES = ("en", "ru")
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "confirm_ask": (
            "Confirm your subscription",
            "Press the button to confirm that this address may receive what you asked for.",
        ),
        "confirm_confirmed": ("Thank you", "Your subscription is confirmed."),
        "confirm_replayed": ("Already confirmed", "This link was used already: nothing changed."),
        "confirm_expired": (
            "This link has expired",
            "Confirmation links work for 48 hours. Please fill in the form again.",
        ),
        "confirm_invalid": ("Link not found", "This link is not valid."),
        "confirm_erased": (
            "Nothing to confirm",
            "The data of this address was erased at its owner's request; nothing changed.",
        ),
        "unsubscribe_ask": (
            "Unsubscribe",
            "Stop our newsletter to this address? Opens and clicks will no longer be recorded.",
        ),
        "unsubscribe_done": (
            "You are unsubscribed",
            "We will not send our newsletter to this address, and no longer record opens or"
            " clicks of our emails to it.",
        ),
        "unsubscribe_invalid": ("Link not found", "This link is not valid."),
        "button_confirm": ("Confirm", ""),
        "button_unsubscribe": ("Unsubscribe", ""),
    },
    "ru": {
        "confirm_ask": (
            "Подтвердите подписку",
            "Нажмите кнопку, чтобы подтвердить, что на этот адрес можно присылать то, что вы"
            " выбрали.",
        ),
        "confirm_confirmed": ("Спасибо", "Подписка подтверждена."),
        "confirm_replayed": (
            "Уже подтверждено",
            "Эта ссылка уже была использована, ничего не изменилось.",
        ),
        "confirm_expired": (
            "Срок ссылки истёк",
            "Ссылка для подтверждения действует 48 часов. Заполните форму ещё раз.",
        ),
        "confirm_invalid": ("Ссылка не найдена", "Эта ссылка недействительна."),
        "confirm_erased": (
            "Нечего подтверждать",
            "Данные этого адреса удалены по просьбе владельца, ничего не изменилось.",
        ),
        "unsubscribe_ask": (
            "Отписаться",
            "Больше не присылать рассылку на этот адрес? Открытия и переходы перестанут"
            " учитываться.",
        ),
        "unsubscribe_done": (
            "Вы отписались",
            "Мы не будем присылать рассылку на этот адрес и больше не учитываем открытия и"
            " переходы в наших письмах.",
        ),
        "unsubscribe_invalid": ("Ссылка не найдена", "Эта ссылка недействительна."),
        "button_confirm": ("Подтвердить", ""),
        "button_unsubscribe": ("Отписаться", ""),
    },
}


def language_of(asked: str | None, accept_language: str) -> str:
    """`asked` if we have it, else the first of the browser's languages we have, else English."""
    for candidate in [asked or "", *accept_language.split(",")]:
        code = candidate.split(";", 1)[0].strip().split("-", 1)[0].lower()
        if code in LANGUAGES:
            return code
    return "en"


def form_page(
    language: str,
    page: str,
    *,
    action: str = "",
    button: str = "",
    fields: Sequence[tuple[str, str]] = (),
) -> str:
    title, text = TEXTS[language][page]
    return PAGES.render(
        "form_page.html",
        language=language,
        title=title,
        text=text,
        action=action,
        button=TEXTS[language][f"button_{button}"][0] if button else "",
        fields=list(fields),
    )
