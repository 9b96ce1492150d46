"""The words of the recipient's preferences page and of the bad-link page, English and Russian."""

from __future__ import annotations

from functools import cache

from gateway.receipts.shown import TextsShown, texts_shown

LANGUAGES = ("en", "ru")

PAGE_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Email tracking preferences",
        "intro": (
            "Our marketing emails can tell us when you open them and which links you follow."
            " We record this about you only with your consent, and you can change your mind"
            " at any time."
        ),
        "what": (
            "With your consent we keep, for each email: when it was opened or a link in it was"
            " followed, which link, and whether that looked like you, your mail provider's image"
            " proxy, or a security scanner. We never keep your IP address or browser details."
            " Without it, your opens and clicks are at most counted anonymously, in totals per"
            " campaign."
        ),
        "state_granted": "Tracking of our emails to you is ON.",
        "state_withdrawn": "Tracking of our emails to you is OFF.",
        "state_not_asked": "Tracking of our emails to you is OFF: you have not agreed to it.",
        "state_erased": "Your tracking data was erased. Tracking of our emails to you stays OFF.",
        "state_unavailable": (
            "We cannot show or change your setting right now. Please try again in a few minutes."
        ),
        "grant": "Allow tracking",
        "withdraw": "Turn tracking off",
        "data_title": "Your data",
        "download": "Download my data (JSON)",
        "erase_intro": (
            "Erasing deletes every open and click recorded about you, your choice and its"
            " receipts. Only a one-way hash of your id and the date stay, so that tracking stays"
            " off for good."
        ),
        "erase": "Erase my data",
        "done_granted": "Saved: tracking is on. Thank you.",
        "done_withdrawn": "Saved: tracking is off.",
        "done_erased": "Your data was erased.",
        "expired": "This form had expired. Please try again.",
        "language": "Language",
        "not_found_title": "This link does not work",
        "not_found_text": (
            "The link you followed is incomplete or damaged, so we cannot tell where it should"
            " lead. Please use the link in the original email, or copy it in full."
        ),
    },
    "ru": {
        "title": "Настройки отслеживания писем",
        "intro": (
            "Наши маркетинговые письма могут сообщать нам, когда вы их открываете и по каким"
            " ссылкам переходите. Мы записываем это только с вашего согласия, и вы можете"
            " изменить решение в любой момент."
        ),
        "what": (
            "С вашего согласия мы храним по каждому письму: когда оно было открыто или по ссылке"
            " из него перешли, по какой ссылке и было ли это похоже на вас, на прокси картинок"
            " вашей почты или на сканер безопасности. Ваш IP-адрес и данные браузера мы не храним"
            " никогда. Без согласия ваши открытия и переходы самое большее учитываются анонимно,"
            " в общих цифрах по рассылке."
        ),
        "state_granted": "Отслеживание наших писем вам ВКЛЮЧЕНО.",
        "state_withdrawn": "Отслеживание наших писем вам ВЫКЛЮЧЕНО.",
        "state_not_asked": "Отслеживание наших писем вам ВЫКЛЮЧЕНО: вы на него не соглашались.",
        "state_erased": "Ваши данные отслеживания удалены. Отслеживание писем вам останется ВЫКЛЮЧЕННЫМ.",
        "state_unavailable": (
            "Сейчас мы не можем показать или изменить вашу настройку. Попробуйте через несколько"
            " минут."
        ),
        "grant": "Разрешить отслеживание",
        "withdraw": "Выключить отслеживание",
        "data_title": "Ваши данные",
        "download": "Скачать мои данные (JSON)",
        "erase_intro": (
            "Удаление стирает все записанные о вас открытия и переходы, ваш выбор и квитанции"
            " о нём. Остаются только необратимый хеш вашего идентификатора и дата, чтобы"
            " отслеживание оставалось выключенным навсегда."
        ),
        "erase": "Удалить мои данные",
        "done_granted": "Сохранено: отслеживание включено. Спасибо.",
        "done_withdrawn": "Сохранено: отслеживание выключено.",
        "done_erased": "Ваши данные удалены.",
        "expired": "Срок действия формы истёк. Попробуйте ещё раз.",
        "language": "Язык",
        "not_found_title": "Эта ссылка не работает",
        "not_found_text": (
            "Ссылка, по которой вы перешли, неполная или повреждена, поэтому мы не знаем, куда"
            " она должна вести. Воспользуйтесь ссылкой из исходного письма или скопируйте её"
            " целиком."
        ),
    },
}


def page_language(requested: str | None, accept_language: str) -> str:
    """`?lang=` if it is one we have, else the first of ours in Accept-Language, else English."""
    if requested in LANGUAGES:
        return requested
    for part in accept_language.split(","):
        tag = part.split(";", 1)[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return LANGUAGES[0]


@cache
def page_texts_shown(language: str) -> TextsShown:
    """What a receipt from the preferences page in `language` was shown."""
    return texts_shown(language, PAGE_TEXTS[language])
