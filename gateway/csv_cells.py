"""CSV rows a spreadsheet will not run: every CSV the gateway writes goes through `csv_row`.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (CSV injection). As OWASP recommends, such a cell is
prefixed with a single quote, which those programs show as text; the csv module then quotes
whatever needs quoting. Numbers are written as they are: a number cannot be a formula.

Identifiers are data to match, not text to read: a cell named in `verbatim` (receipt and
subject ids) that has the form of an id (`gateway.inputs.SUBJECT_ID_PATTERN`: letters, digits,
`._:-` — no formula's parentheses, operators or references to other programs) is written
exactly, so the CSV and the JSON export agree on every id; anything else is neutralised.

>>> csv_row(["=HYPERLINK(\\"http://x\\")", "-Kx3", "plain", -1, "a@b"])
'"\\'=HYPERLINK(""http://x"")",\\'-Kx3,plain,-1,a@b\\r\\n'
>>> csv_row(["-Kx3", "-Kx3"], verbatim={0})
"-Kx3,'-Kx3\\r\\n"
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable

from gateway.inputs import SUBJECT_ID_PATTERN

SUBJECT_ID = re.compile(SUBJECT_ID_PATTERN)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """`value` with a leading `'` if it is text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Iterable[object], verbatim: Collection[int] = ()) -> str:
    """One CSV line (with its `\\r\\n`), every cell neutralised but the identifier cells
    whose positions are in `verbatim`."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(
        value if index in verbatim and _is_id(value) else neutralise(value)
        for index, value in enumerate(values)
    )
    return buffer.getvalue()


def _is_id(value: object) -> bool:
    return isinstance(value, str) and SUBJECT_ID.fullmatch(value) is not None
