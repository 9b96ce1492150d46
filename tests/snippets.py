"""The examples the docs show, kept true: the integration snippets of `tag_rules/README.md`, which
the end-to-end tests run as written, and the examples marked runnable in docs/ (below).

<!-- snippet: NAME -->
```html
...
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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


# ------------------------------------------------------------------ runnable examples
#
# In docs/*.md (and README.md), an example marked `<!-- run -->` is executed by
# tests/docs/test_runnable.py against a gateway the test starts, and fails when its output no
# longer matches what the page shows. Two kinds:
#
#   <!-- run -->
#   ```console                              # each command runs in its own bash, in one folder
#   $ curl -s localhost:8000/healthz        # per page: files (`jar`) carry over, variables not;
#                                           # a command; `\` at the end continues it
#   {"status":"ok"}                         # what it prints; `...` stands for any text
#   ```
#
#   <!-- run -->
#   ```http
#   POST /consent HTTP/1.1                  # a request: line, headers, blank line, body
#   Content-Type: application/json
#
#   {"action": "reject_all"}
#   ```
#   ```http
#   HTTP/1.1 200 OK                         # the answer: status, the headers it must carry,
#   cache-control: no-store                 # and the body (each may use `...`)
#
#   {"consent": {...}, ...}
#   ```

RUN_MARKER = "<!-- run -->"
_RUNNABLE = re.compile(
    r"<!-- run -->\n```(console|http)\n(.*?)\n```\n(?:```http\n(.*?)\n```\n)?", re.S
)
ELLIPSIS = "..."


@dataclass(frozen=True)
class Command:
    line: str  # what runs (continuations joined)
    expected: str  # what it must print (`...` for any text)


@dataclass(frozen=True)
class Runnable:
    page: str
    line: int  # 1-based line of the marker, for the failure message
    kind: str  # console | http
    source: str
    response: str  # the expected answer of an http example

    def commands(self) -> list[Command]:
        commands: list[Command] = []
        pending: list[str] = []
        output: list[str] = []
        continuing = False
        for text in self.source.splitlines():
            if continuing:
                pending.append(text)
                continuing = text.endswith("\\")
            elif text.startswith("$ "):
                if pending:
                    commands.append(Command("\n".join(pending), "\n".join(output)))
                pending, output = [text[2:]], []
                continuing = text.endswith("\\")
            else:
                output.append(text)
        if pending:
            commands.append(Command("\n".join(pending), "\n".join(output)))
        return commands


def runnables(path: Path) -> list[Runnable]:
    """Every example marked runnable in `path`, in order."""
    text = path.read_text(encoding="utf-8")
    found = [
        Runnable(path.name, text.count("\n", 0, match.start()) + 1, *match.groups(default=""))
        for match in _RUNNABLE.finditer(text)
    ]
    markers = re.findall(rf"^{re.escape(RUN_MARKER)}$", text, re.M)
    assert len(found) == len(markers), f"{path}: a `{RUN_MARKER}` line marks no example"
    return found


def matches(expected: str, actual: str) -> bool:
    """`actual` is `expected` where each `...` stands for any text (several lines too);
    trailing spaces and blank lines at either end do not count.

    >>> matches('{"id": "...", "ok": true}', '{"id": "x1", "ok": true}')
    True
    >>> matches('{"ok": true}', '{"ok": false}')
    False
    """
    pattern = ".*?".join(re.escape(piece) for piece in _tidy(expected).split(ELLIPSIS))
    return re.fullmatch(pattern, _tidy(actual), re.S) is not None


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())
