"""The integration snippets of `tag_rules/README.md`, which the end-to-end tests run as written.

<!-- snippet: NAME -->
```html
...
```
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "tag_rules" / "README.md"
PLACEHOLDER_GATEWAY = "https://consent.example.com"
_SNIPPET = re.compile(r"<!-- snippet: ([\w-]+) -->\n```(\w+)\n(.*?)\n```\n", re.S)


def snippets(path: Path = DOCS) -> dict[str, tuple[str, str]]:
    """Snippet name → (language, code), in the order the document shows them."""
    found: dict[str, tuple[str, str]] = {}
    for name, language, code in _SNIPPET.findall(path.read_text(encoding="utf-8")):
        assert name not in found, f"{path}: snippet {name!r} twice"
        found[name] = (language, code)
    return found
