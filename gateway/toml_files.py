"""Reading one TOML file, with every way it can fail mapped to one `ConfigError` line: the one
reader the settings file and the tag rules share, so their messages cannot drift apart.

    >>> read_toml(Path("no/such.toml"))
    Traceback (most recent call last):
    gateway.errors.ConfigError: no/such.toml: (file): no such file
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError


def read_toml(path: Path, error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """The document at `path`; a missing, unreadable or invalid file raises `error`
    (`ConfigError` or a subclass such as `RuleError`) naming the file and `(file)`/`(syntax)`."""
    source = str(path)
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise error(source, "(file)", "no such file") from None
    except IsADirectoryError:
        raise error(source, "(file)", "is a directory, expected a TOML file") from None
    except OSError as problem:
        raise error(source, "(file)", f"cannot read: {problem.strerror}") from None
    except UnicodeDecodeError:
        raise error(source, "(syntax)", "expected UTF-8 text") from None
    except RecursionError:
        raise error(source, "(syntax)", "nested too deeply") from None
    except tomllib.TOMLDecodeError as problem:
        raise error(source, "(syntax)", f"invalid TOML: {problem}") from None
