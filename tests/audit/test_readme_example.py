"""The example test file the docs show (docs/audit.md) is the one `make test` runs, word for word."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_readme_shows_the_example_that_runs() -> None:
    readme = (REPO / "docs" / "audit.md").read_text(encoding="utf-8")
    example = (REPO / "examples" / "test_site_consent.py").read_text(encoding="utf-8")
    assert f"```python\n{example}```\n" in readme
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "examples" in makefile
