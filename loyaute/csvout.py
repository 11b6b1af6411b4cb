"""Every CSV loyaute writes goes through here (issue 10, finding 7: CSV formula injection).

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or
a carriage return) as a formula: an annotation, a case reason or a service name could then run
in the DPO's spreadsheet. Following OWASP, such a cell is written with a leading single quote,
which spreadsheets show as text; the value keeps every character. Column names (the contract's
machine names) are written as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """A value as a CSV cell: booleans as ``true``/``false``, None as empty, and a leading
    quote before anything a spreadsheet would run."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_rows(stream: TextIO, columns: Iterable[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """A header then one line per row (columns in order; other keys ignored)."""
    names = list(columns)
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([cell(row.get(name, "")) for name in names])
