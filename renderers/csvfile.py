"""CSV for spreadsheets, safe to open: a text cell a spreadsheet would take for a formula
(one starting with = + - @, a tab or a carriage return) gets a leading apostrophe, so it shows
as the text it is (OWASP's advice on CSV injection). Numbers stay numbers: a count of -3 is a
number to the spreadsheet, not a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """One value as written: blank for None, text neutralised, anything else as it is."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A header row and the rows, every cell through `cell`."""
    out = io.StringIO()
    # RFC 4180's CRLF: the writer then quotes a cell holding either character, where with "\n"
    # alone a carriage return in a cell would start a new row (and a formula) in a spreadsheet
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()
