"""CSV and XLSX exports of a dashboard's table: the same rows and figures the page shows."""

from __future__ import annotations

import io

from django.http import HttpResponse
from django.utils.translation import gettext as _

from callcenter.exports import csv_writer, xlsx_append
from kpi.selectors import KpiRow


def _columns():
    return [
        (_("Kind"), lambda r: r.scope.kind),
        (_("Unit"), lambda r: r.scope.label),
        (_("Offered"), lambda r: r.offered),
        (_("Answered"), lambda r: r.answered),
        (_("Abandoned (raw)"), lambda r: r.abandoned),
        (_("Short abandons"), lambda r: r.short_abandoned),
        (_("Abandon rate"), lambda r: r.abandon_rate),
        (_("Answer rate"), lambda r: r.answer_rate),
        (_("Service level"), lambda r: r.service_level),
        (_("ASA (s)"), lambda r: r.asa),
        (_("Handled"), lambda r: r.handled),
        (_("AHT (s)"), lambda r: r.aht),
        (_("Talk (s)"), lambda r: r.talk_mean),
        (_("Hold (s)"), lambda r: r.hold_mean),
        (_("Wrap-up (s)"), lambda r: r.acw_mean),
        (_("FCR"), lambda r: r.fcr),
        (_("FCR by survey"), lambda r: r.survey_fcr),
        (_("CSAT"), lambda r: r.csat),
        (_("Survey responses"), lambda r: r.csat_responses),
        (_("Occupancy"), lambda r: r.occupancy),
        (_("Utilisation"), lambda r: r.utilisation),
        (_("Calls per agent per day"), lambda r: r.calls_per_agent_day),
        (_("Calls per hour"), lambda r: r.calls_per_hour),
        (_("Transfer rate"), lambda r: r.transfer_rate),
        (_("Escalation rate"), lambda r: r.escalation_rate),
        (_("Main task rate"), lambda r: r.main_task_rate),
        (_("PII detections"), lambda r: r.pii_detections),
        (_("QA average"), lambda r: r.qa_average),
    ]


def _cell(value):
    if isinstance(value, float):
        return round(value, 4)
    return value


def table(rows: list[KpiRow]) -> tuple[list[str], list[list]]:
    columns = _columns()
    return [c[0] for c in columns], [[_cell(fn(r)) for _n, fn in columns] for r in rows]


def csv_response(rows: list[KpiRow], filename: str) -> HttpResponse:
    header, body = table(rows)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 Korean correctly with a BOM
    writer = csv_writer(buffer)
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in body])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(rows: list[KpiRow], filename: str) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    header, body = table(rows)
    book = Workbook()
    sheet = book.active
    sheet.title = "KPI"
    xlsx_append(sheet, header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in body:
        xlsx_append(sheet, row)
    sheet.freeze_panes = "C2"
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
