"""What the `consent-gateway` commands share: their exit codes, the one-line refusal on stderr
and the argument type for a moment in time."""

from __future__ import annotations

import argparse
import sys

from gateway.inputs import parse_moment

EXIT_INPUT = 1  # the input (an argument, a file) is wrong: nothing was done
EXIT_CONFIG = 2  # the settings or tag rules are wrong
EXIT_UNREACHABLE = 3  # check-config: the settings are fine, the store does not answer


def refuse(message: str) -> int:
    """Say what is wrong in one line on stderr; the exit code for bad input."""
    print(f"consent-gateway: {message}", file=sys.stderr)
    return EXIT_INPUT


def moment(text: str) -> float:
    """An ISO date or time as an argument (`--since 2026-01-01`), as unix seconds."""
    try:
        return parse_moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
