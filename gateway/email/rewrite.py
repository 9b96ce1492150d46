"""Rewriting a whole HTML email for tracking, and nothing else.

Every trackable link (`<a>`, `<area>` and Outlook's VML `<v:…>` buttons inside MSO conditional
comments) gets its `href` value replaced by a signed click URL; the open pixel and a hidden
honeypot link go just before `</body>`; `{{ preferences_url }}` becomes the recipient's
preferences URL. Every other byte stays as it was: the document is scanned, never parsed and
re-serialised, so quoting, case, entities, whitespace, comments and line endings survive.

Left alone: `mailto:`, `tel:`, `#fragment` and other non-web links, links marked
`data-no-track`, links holding a template placeholder (`{{…}}`, `{word}`, `${…}`, `*|…|*`,
`%%…%%`, also percent-encoded), links to the gateway itself, and targets that fail the safety
checks (reported in `skipped`): the ESP fills those in per recipient after us, so signing one
would freeze the placeholder into the target.

Outlook's "bulletproof button" is a VML `<v:…>` shape inside `<!--[if mso]>` followed by an
`<a>` twin for every other client: one button, so one link number (a burst check counts
distinct links, and the campaign report shows one button).

    >>> from gateway.email.links import EmailSigner
    >>> signer = EmailSigner(("k" * 32,), "https://gw.test")
    >>> email = EmailTemplate.parse(b'<A HREF=https://example.com/>Hi</A></body>', signer)
    >>> out = email.render(signer.message(campaign="c1", recipient="esp-1", sent_at=0))
    >>> out.startswith(b'<A HREF=https://gw.test/c/')
    True
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass

from gateway.email.links import EmailSigner, MessageLinks
from gateway.email.targets import checked_target
from gateway.errors import Unprocessable

PREFERENCES_PLACEHOLDER = re.compile(r"\{\{\s*preferences_url\s*\}\}")
_TEMPLATE_MARKERS = re.compile(
    r"\{\{|\}\}|\*\||\|\*|%%|\{\$|\$\{|\[\[|\]\]|<%|%>"
    r"|\{\s*[A-Za-z_][\w.:-]*\s*\}"  # {email}, { first_name }, {contact.email}
    r"|(?i:\$?%7B\s*[A-Za-z_][\w.:-]*\s*%7D)"  # the same, percent-encoded by an editor
)
_TAG = re.compile(r"""<([A-Za-z][A-Za-z0-9:._-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_RAW_TEXT = frozenset({"script", "style", "title", "textarea"})
_LINK_ELEMENTS = frozenset({"a", "area"})
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))
TRACKING_SNIPPET = (
    '<a href="{honeypot}" style="display:none;font-size:0;line-height:0;max-height:0;'
    'overflow:hidden;mso-hide:all" aria-hidden="true" tabindex="-1"></a>'
    '<img src="{pixel}" width="1" height="1" alt="" '
    'style="display:block;width:1px;height:1px;border:0">'
)


@dataclass(frozen=True, slots=True)
class ClickSlot:
    target: str  # already checked and normalised
    link: int


@dataclass(frozen=True, slots=True)
class SkippedLink:
    line: int
    href: str
    reason: str


class _Preferences:
    pass


class _Tracking:
    pass


PREFERENCES, TRACKING = _Preferences(), _Tracking()
Piece = str | ClickSlot | _Preferences | _Tracking


@dataclass(frozen=True, slots=True)
class EmailTemplate:
    """An email scanned once; `render` fills in one recipient's URLs (fast for batches)."""

    pieces: tuple[Piece, ...]
    encoding: str
    links: int
    skipped: tuple[SkippedLink, ...]

    @classmethod
    def parse(cls, document: bytes, signer: EmailSigner) -> EmailTemplate:
        encoding = _encoding_of(document)
        text = document.decode(encoding, "surrogateescape")
        scan = _Scanner(text, signer)
        scan.run()
        return cls(scan.pieces(), encoding, scan.link_count, tuple(scan.skipped))

    def render(self, message: MessageLinks) -> bytes:
        parts: list[str] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                parts.append(piece)
            elif isinstance(piece, ClickSlot):
                parts.append(message.checked_click_url(piece.target, piece.link))
            elif piece is PREFERENCES:
                parts.append(message.preferences_url)
            else:
                parts.append(
                    TRACKING_SNIPPET.format(honeypot=message.honeypot_url(), pixel=message.open_url)
                )
        return "".join(parts).encode(self.encoding, "surrogateescape")


def _encoding_of(document: bytes) -> str:
    if document.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Unprocessable("UTF-16 emails are not supported: save the email as UTF-8")
    found = _CHARSET.search(document[:4096])
    if found is None:
        return "utf-8"
    # Only a charset where ASCII bytes mean ASCII keeps tags readable; any other is read as
    # UTF-8, which (with surrogateescape) still gives back every byte unchanged.
    try:
        name = codecs.lookup(found.group(1).decode("ascii")).name
        ascii_safe = _PRINTABLE_ASCII.decode(name) == _PRINTABLE_ASCII.decode("ascii")
    except (LookupError, UnicodeDecodeError):
        return "utf-8"
    return name if ascii_safe else "utf-8"


class _Scanner:
    def __init__(self, text: str, signer: EmailSigner) -> None:
        self.text, self.signer = text, signer
        self.edits: list[tuple[int, int, Piece]] = []
        self.skipped: list[SkippedLink] = []
        self.link_count = 0
        self._last_link: tuple[str, int, bool] | None = None  # target, number, is VML

    def run(self) -> None:
        text, position = self.text, 0
        while (start := text.find("<", position)) != -1:
            position = self._step(start)
        for match in PREFERENCES_PLACEHOLDER.finditer(text):
            self.edits.append((match.start(), match.end(), PREFERENCES))
        body_end = list(_BODY_END.finditer(text))
        at = body_end[-1].start() if body_end else len(text)
        self.edits.append((at, at, TRACKING))

    def _step(self, start: int) -> int:
        """Handle the markup at `start` ('<'); return where scanning goes on."""
        text = self.text
        if text.startswith("<!--", start):
            if text.startswith("<!--[if", start):  # conditional: Outlook reads what is inside
                end = text.find("]>", start)
                return len(text) if end == -1 else end + 2
            if text.startswith("<!-->", start):
                return start + 5
            end = text.find("-->", start + 4)
            return len(text) if end == -1 else end + 3
        if text.startswith("<!", start) or text.startswith("<?", start):
            end = text.find(">", start)  # doctype, <![endif]-->, processing instruction
            return len(text) if end == -1 else end + 1
        tag = _TAG.match(text, start)
        if tag is None:
            return start + 1
        name = tag.group(1).lower()
        if name in _LINK_ELEMENTS or name.startswith("v:"):
            self._link(tag.start(2), tag.group(2), vml=name.startswith("v:"))
        if name in _RAW_TEXT:
            close = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(text, tag.end())
            return len(text) if close is None else close.end()
        return tag.end()

    def _link(self, offset: int, attributes: str, *, vml: bool) -> None:
        href: re.Match[str] | None = None
        names = set()
        for attribute in _ATTRIBUTE.finditer(attributes):
            name = attribute.group(1).lower()
            names.add(name)
            if name == "href" and href is None and attribute.lastindex and attribute.lastindex > 1:
                href = attribute
        if href is None or "data-no-track" in names:
            return
        group = next(g for g in (2, 3, 4) if href.group(g) is not None)
        raw = href.group(group)
        url = html.unescape(raw).strip(" \t\n\f\r")
        start, end = offset + href.start(group), offset + href.end(group)
        reason = self._reason_to_skip(url)
        if reason is not None:
            if reason:
                self.skipped.append(SkippedLink(self.text.count("\n", 0, start) + 1, url, reason))
            return
        try:
            target = checked_target(url, self.signer.allowed_hosts)
        except Unprocessable as error:
            self.skipped.append(SkippedLink(self.text.count("\n", 0, start) + 1, url, error.detail))
            return
        self.edits.append((start, end, ClickSlot(target, self._number(target, vml))))

    def _number(self, target: str, vml: bool) -> int:
        """The link number: a VML button and the `<a>` twin right next to it (same target,
        one of each kind, nothing trackable between them) share one."""
        last = self._last_link
        if last is not None and last[0] == target and last[2] != vml:
            self._last_link = None
            return last[1]
        self.link_count += 1
        self._last_link = (target, self.link_count, vml)
        return self.link_count

    def _reason_to_skip(self, url: str) -> str | None:
        """None: wrap it; "": leave it quietly (not a web link); text: leave it and say why."""
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme not in ("http", "https"):
            return ""
        if _TEMPLATE_MARKERS.search(url):
            return "holds a template placeholder"
        if url.startswith(self.signer.base + "/"):
            return ""
        return None

    def pieces(self) -> tuple[Piece, ...]:
        pieces: list[Piece] = []
        position = 0
        for start, end, piece in sorted(self.edits, key=lambda edit: (edit[0], edit[1])):
            pieces.append(self.text[position:start])
            pieces.append(piece)
            position = end
        pieces.append(self.text[position:])
        return tuple(piece for piece in pieces if piece != "")
