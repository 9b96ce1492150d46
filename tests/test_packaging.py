"""The wheel carries the banner: built from a copy of the sources, installed into a fresh venv.

Offline and quick: the build runs without isolation (the project venv has the pinned
setuptools), pip installs the wheel alone (`--no-index --no-deps`), and the fresh venv borrows
the project venv's installed dependencies through a `.pth` line (a plain path: the project's own
editable `gateway` is not among them). The check runs from a directory outside the repository, so
only the installed package can answer.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHECK = """
import asyncio, sys
from pathlib import Path

import httpx
from starlette.applications import Starlette

import gateway
from gateway.banner.config import build_banner_config
from gateway.banner.routes import STATIC_DIR, banner_routes

config = build_banner_config(public_url="https://consent.example.com", policy_revision=1,
    policy_url="/privacy", categories=["analytics"], vendors=[])
app = Starlette(routes=banner_routes(config))

async def main() -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        js = await http.get("/consent.js")
        css = await http.get("/consent.css")
        lazy = await http.get("/consent-lazy.js")
    assert lazy.status_code == 200 and "__consentGateway" in lazy.text
    assert js.status_code == css.status_code == 200, (js.status_code, css.status_code)
    assert "consentGateway" in js.text and '"revision":1' in js.text
    assert ".cg-d" in css.text
    print(Path(gateway.__file__).resolve().parent, STATIC_DIR.resolve(), sep="\\n")

asyncio.run(main())
"""


def run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_built_wheel_serves_the_banner_from_the_installed_package(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "gateway", source / "gateway", ignore=ignore)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, ".",
        cwd=source)  # fmt: skip
    [wheel] = wheels.glob("consent_gateway-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    built = ("consent.js", "consent.css", "consent-lazy.js", "consent-lazy.css")
    assert {f"gateway/banner/static/{name}" for name in built} <= names

    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(fresh)
    python = fresh / "bin" / "python"
    run(*pip, "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                    cwd=tmp_path).strip())  # fmt: skip
    (site / "project-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    package, static = run(python, "-c", CHECK, cwd=elsewhere).split()
    assert Path(package) == site / "gateway"  # the installed copy, not the repository's
    assert Path(static) == site / "gateway" / "banner" / "static"
