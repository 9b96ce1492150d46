"""`GET /consent.js`, `/consent.css` and `/consent/details`: rendered and gzipped once, then
served from memory.

    >>> from starlette.applications import Starlette
    >>> from gateway.banner.config import build_banner_config
    >>> config = build_banner_config(public_url="https://consent.example.com",
    ...     policy_revision=1, policy_url="/privacy", categories=["analytics"], vendors=[])
    >>> app = Starlette(routes=banner_routes(config))

The files served are the banner's build (`static/`, made from `src/` by esbuild, see
docs/banner-development.md): already minified, served as they are. The banner's config goes
into the script in place of the `/*@config*/null` placeholder as JSON escaped so that no text
in it can end the script or a surrounding `<script>` element. Each file gets a strong ETag
per encoding, `Vary: Accept-Encoding` and a short public cache.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.banner.details import vendor_details
from gateway.banner.texts import DEFAULT_LANGUAGE
from gateway.bodies.answers import BannerDetails
from gateway.errors import ConfigError

# Inside the package, so that a wheel carries it; `static/consent-banner` at the top of the
# repository is a symlink to this folder, for whoever looks for the banner there.
STATIC_DIR = Path(__file__).resolve().parent / "static"
CONFIG_PLACEHOLDER = "/*@config*/null"
CONFIG_MARKER = "/*@config*/"
CACHE_CONTROL = "public, max-age=300"
JS_TYPE = "text/javascript; charset=utf-8"
CSS_TYPE = "text/css; charset=utf-8"
JSON_TYPE = "application/json"
# Served as built: the first layer's stylesheet, and the lazy part (script and stylesheet)
# that the banner loads the first time the preferences, an embed or a notice need it.
LAZY_AND_STYLES = {
    "consent.css": CSS_TYPE,
    "consent-lazy.js": JS_TYPE,
    "consent-lazy.css": CSS_TYPE,
}
DETAIL_TEXTS = frozenset(
    {"preferences_title", "preferences_description", "save", "always_on", "vendors", "cookies"}
    | {"terms", "withdraw", "withdrawn", "gpc_notice", "embed", "load_once", "always_allow"}
    | {"processed_in"}
)

# JSON is valid JavaScript, but these must not appear raw: `<`/`>`/`&` could close or open
# markup if the script is ever inlined, U+2028/2029 end a line in older engines.
_UNSAFE_IN_SCRIPT = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


@dataclass(frozen=True, slots=True)
class StaticAsset:
    """One file as served: plain and gzipped bytes with the ETag of each."""

    media_type: str
    plain: bytes
    gzipped: bytes
    etag: str
    gzip_etag: str

    @classmethod
    def build(cls, body: bytes, media_type: str) -> StaticAsset:
        digest = hashlib.sha256(body).hexdigest()[:32]
        # mtime=0 keeps the gzip bytes, and so the ETag, the same on every instance.
        gzipped = gzip.compress(body, compresslevel=9, mtime=0)
        return cls(media_type, body, gzipped, f'"{digest}"', f'"{digest}-gz"')

    async def respond(self, request: Request) -> Response:
        status, headers, body = self.answer(
            request.headers.get("accept-encoding", ""), request.headers.get("if-none-match", "")
        )
        return Response(body, status_code=status, headers=headers)

    def answer(self, accept_encoding: str, if_none_match: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for a request with these two header values."""
        use_gzip = accepts_gzip(accept_encoding)
        etag = self.gzip_etag if use_gzip else self.etag
        headers = {
            "ETag": etag,
            "Cache-Control": CACHE_CONTROL,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
            # Sites that set Cross-Origin-Embedder-Policy may still load the banner.
            "Cross-Origin-Resource-Policy": "cross-origin",
        }
        if etag_matches(if_none_match, etag):
            return 304, headers, b""
        if use_gzip:
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = self.media_type
        return 200, headers, self.gzipped if use_gzip else self.plain


def banner_routes(config: Mapping[str, object], *, static_dir: Path = STATIC_DIR) -> list[Route]:
    """The banner routes, with `config` (see `build_banner_config`) split between the script
    (the first layer) and `GET /consent/details?lang=` (the preferences layer).

    Raises `ConfigError` if the banner files are missing or the script has no placeholder.
    """
    return banner_routes_for(config, banner_assets(config, static_dir=static_dir))


def banner_assets(
    config: Mapping[str, object], *, static_dir: Path = STATIC_DIR
) -> dict[str, StaticAsset]:
    """The script (with the first layer's config) and the stylesheet by path, built once."""
    embedded, _ = split_config(config)
    script = render_script(_read(static_dir / "consent.js").strip(), embedded)
    assets = {"/consent.js": StaticAsset.build(script.encode(), JS_TYPE)}
    for name, media_type in LAZY_AND_STYLES.items():
        body = _read(static_dir / name).strip().encode()
        assets["/" + name] = StaticAsset.build(body, media_type)
    return assets


def banner_routes_for(
    config: Mapping[str, object], assets: Mapping[str, StaticAsset]
) -> list[Route]:
    """The routes of `assets` (see `banner_assets`) and of the preferences layer's details."""
    return [
        *(
            Route(
                path,
                asset.respond,
                methods=["GET", "HEAD"],
                name="banner" + path[8:].replace(".", "_"),
            )
            for path, asset in assets.items()
        ),
        details_route(config),
    ]


def details_route(config: Mapping[str, object]) -> Route:
    """`GET /consent/details?lang=`: the preferences layer's texts in one language."""
    _, details = split_config(config)
    by_language = {
        language: StaticAsset.build(script_json(body).encode(), JSON_TYPE)
        for language, body in details.items()
    }

    async def details_endpoint(request: Request) -> Response:
        language = request.query_params.get("lang", "")
        return await by_language.get(language, by_language[DEFAULT_LANGUAGE]).respond(request)

    return Route(
        "/consent/details", details_endpoint, methods=["GET", "HEAD"], name="banner_details"
    )


def split_config(
    config: Mapping[str, object],
) -> tuple[dict[str, object], dict[str, BannerDetails]]:
    """The first layer's config for the script, and per language the preferences layer's
    texts and vendor descriptions, which the banner fetches only when that layer opens."""
    texts = config["texts"]
    vendors = config["vendors"]
    assert isinstance(texts, dict)
    assert isinstance(vendors, list)
    embedded = dict(config)
    embedded["texts"] = {
        language: {k: v for k, v in values.items() if not is_detail_text(k)}
        for language, values in texts.items()
    }
    # The first layer needs each vendor's id and category (to decide what may run), as
    # `{id: category}`; its name, description, links, cookies, notice and where it processes
    # data come with the details, which whatever shows a vendor (the preferences list, an
    # embed's placeholder) waits for. (The cookies to delete come from POST and DELETE /consent.)
    embedded["vendors"] = {v["id"]: v["category"] for v in vendors}
    details = {
        language: BannerDetails(
            texts={k: v for k, v in values.items() if is_detail_text(k)},
            vendors=vendor_details(config, language),
        )
        for language, values in texts.items()
    }
    return embedded, details


def is_detail_text(key: str) -> bool:
    """Whether a text is shown only in the preferences layer (so fetched, not embedded)."""
    return key in DETAIL_TEXTS or key.startswith(("category_", "safeguard_"))


def render_script(source: str, config: Mapping[str, object]) -> str:
    """`source` with its config placeholder's `null` replaced by `config` as script-safe JSON.

    The `/*@config*/` comment stays before it, so that a reader of the served script (the
    audit, gateway/audit/config.py) finds the config whatever name the minifier gave it."""
    if source.count(CONFIG_PLACEHOLDER) != 1:
        raise ConfigError(
            "consent.js", "config", f"expected exactly one {CONFIG_PLACEHOLDER} placeholder"
        )
    return source.replace(CONFIG_PLACEHOLDER, CONFIG_MARKER + script_json(config))


def script_json(value: object) -> str:
    """Compact JSON that is safe anywhere in a script, even inside an HTML `<script>`."""
    return msgspec.json.encode(value).decode().translate(_UNSAFE_IN_SCRIPT)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an `Accept-Encoding` value allows gzip (by name or `*`, with q > 0)."""
    verdicts: dict[str, bool] = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        verdicts[coding.strip()] = quality > 0
    return verdicts.get("gzip", verdicts.get("x-gzip", verdicts.get("*", False)))


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison, as `If-None-Match` requires: `W/` is ignored, `*` matches anything."""
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "banner", "file not found (gateway/banner/static/)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), "banner", f"cannot read: {error}") from None
