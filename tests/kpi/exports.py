"""Reading back what an export wrote: the lines above the table (label, value), the header
row and the rows (callcenter.exports.TableExport's layout)."""

from __future__ import annotations

import csv
import io


def csv_table(response) -> tuple[dict[str, str], list[str], list[list[str]]]:
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    blank = lines.index([])
    about = {line[0]: line[1] for line in lines[1:blank]}
    return about, lines[blank + 1], lines[blank + 2 :]


def xlsx_sheet(response):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(response.content)).active


def xlsx_table(response):
    sheet = xlsx_sheet(response)
    rows = list(sheet.iter_rows(values_only=True))
    blank = next(i for i, row in enumerate(rows) if all(v is None for v in row))
    about = {row[0]: row[1] for row in rows[1:blank]}
    return about, list(rows[blank + 1]), [list(r) for r in rows[blank + 2 :]]
