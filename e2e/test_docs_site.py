"""The documentation site as a reader gets it: built strictly by MkDocs, served as static files,
opened in Chromium. Its home page shows the pitch, the navigation and the search box, and loads
nothing from another host (no web fonts, no CDN). Screenshot: e2e/artifacts/screenshots/docs-home.png (ignored)."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from e2e.conftest import SCREENSHOTS, Visit
from e2e.gateway_server import REPO


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    built = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    subprocess.run(
        [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(built)],
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=True,
        timeout=120,
    )

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=built))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        with contextlib.suppress(OSError):
            server.server_close()


async def test_the_docs_home_page(visit: Visit, docs_site: str) -> None:
    requested: list[str] = []
    page = await visit("about:blank", viewport={"width": 1280, "height": 900})
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(f"{docs_site}/")
    assert await page.title() == "consent-gateway"
    assert (await page.locator("article h1").inner_text()).rstrip("¶") == "consent-gateway"
    nav = await page.locator("nav.md-nav--primary").inner_text()
    for entry in ("Getting started", "The banner", "Rule keys", "Every setting", "Operations"):
        assert entry in nav
    await page.locator("label.md-search__icon, input.md-search__input").first.wait_for()
    await page.screenshot(path=SCREENSHOTS / "docs-home.png")
    hosts = {urlsplit(url).netloc for url in requested if url.startswith("http")}
    assert hosts == {urlsplit(docs_site).netloc}

    await page.get_by_role("link", name="Every setting").first.click()
    await page.wait_for_url("**/configuration-reference/")
    assert "GATEWAY_STORE" in await page.locator("article table").inner_text()
