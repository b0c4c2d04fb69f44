"""Exports people can hand on (issue 18, item 12): each header once, rates as percent and
durations as m:ss (real Excel number formats in XLSX), the period and the filters written
in the file, and the monthly evaluation exported within the viewer's reach, comments masked."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from callcenter.exports import PERCENT, TableExport
from kpi import performance
from kpi.models import PerformanceSheet
from tests.kpi.exports import csv_table, xlsx_sheet, xlsx_table
from tests.kpi.test_dashboards import today  # noqa: F401 - the fixture
from tests.kpi.test_performance_sheets import month  # noqa: F401 - the fixture


def kpi_export(client, person, query, lang="ko"):
    client.force_login(person)
    return client.get(f"/kpi/?{query}", HTTP_ACCEPT_LANGUAGE=lang)


def day_query(extra=""):
    day = timezone.localdate().isoformat()
    return f"start={day}&end={day}{extra}"


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_each_kpi_header_appears_once(client, org, today, lang, kind):  # noqa: F811
    response = kpi_export(client, org.director, day_query(f"&export={kind}"), lang)
    _about, header, _body = (csv_table if kind == "csv" else xlsx_table)(response)
    assert len(header) == len(set(header)) and len(header) > 20, header


def test_a_repeated_header_is_refused():
    with pytest.raises(ValueError, match="구분"):
        TableExport(title="t", about=[], columns=[("구분", "text"), ("구분", PERCENT)])


def test_csv_writes_rates_as_percent_and_durations_as_minutes(client, org, today):  # noqa: F811
    _about, header, body = csv_table(kpi_export(client, org.lead1, day_query("&export=csv"), "en"))
    agent1 = next(r for r in body if r[1] == "agent1")
    # agent1: three calls of 100 s talk + 20 s wrap-up, 4 s wait → AHT 2:00, ASA 0:04.
    assert agent1[header.index("AHT")] == "2:00"
    assert agent1[header.index("ASA")] == "0:04"
    assert agent1[header.index("Kind")] == "Agent"
    _about, header, body = csv_table(
        kpi_export(client, org.manager, day_query("&export=csv"), "en")
    )
    department = next(r for r in body if r[0] == "Department")
    # 일반: 4 answered within 20 s, 1 abandoned after 30 s → 80.0 %.
    assert department[header.index("Service level")] == "80.0%"
    assert department[header.index("Abandon rate")].endswith("%")


def test_xlsx_keeps_numbers_with_excel_formats(client, org, today):  # noqa: F811
    def cells(person):
        response = kpi_export(client, person, day_query("&export=xlsx"), "en")
        sheet = xlsx_sheet(response)
        _about, header, body = xlsx_table(response)
        first_row = sheet.max_row - len(body) + 1
        rows = {(r[0], r[1]): first_row + n for n, r in enumerate(body)}
        return sheet, {name: i for i, name in enumerate(header)}, rows

    sheet, index, rows = cells(org.manager)
    dept = sheet.cell(row=rows[("Department", "일반")], column=index["Service level"] + 1)
    assert dept.value == pytest.approx(0.8) and dept.number_format == "0.0%"
    sheet, index, rows = cells(org.lead1)
    aht = sheet.cell(row=rows[("Agent", "agent1")], column=index["AHT"] + 1)
    # a real duration (Excel's fraction of a day; openpyxl reads it back as a timedelta)
    assert aht.value == timedelta(seconds=120) and aht.number_format == "[mm]:ss"
    handled = sheet.cell(row=rows[("Agent", "agent1")], column=index["Handled"] + 1)
    assert handled.value == 3 and handled.number_format == "0"


def test_the_period_and_filters_are_written_in_the_file(client, org, today):  # noqa: F811
    first = timezone.localdate() - timedelta(days=6)
    last = timezone.localdate()
    query = f"start={first}&end={last}&department={org.general.pk}&export=csv"
    about, _header, _body = csv_table(kpi_export(client, org.director, query, "en"))
    assert about["Period"] == f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"
    assert about["Department"] == "일반" and about["Team"] == "All"
    assert org.director.display_name in about["Exported"]
    about, _header, _body = xlsx_table(kpi_export(client, org.director, query[:-3] + "xlsx"))
    assert about["기간"] == f"{first:%Y-%m-%d} – {last:%Y-%m-%d}" and about["부서"] == "일반"


# --- The monthly evaluation ---------------------------------------------------------------


def evaluation_export(client, person, kind="csv", lang="en"):
    client.force_login(person)
    return client.get(f"/kpi/evaluations/?month=2026-03&export={kind}", HTTP_ACCEPT_LANGUAGE=lang)


def test_the_evaluation_exports_every_visible_sheet(client, org, month, settings):  # noqa: F811
    performance.performance_sheets_compute(month=month)
    PerformanceSheet.objects.filter(agent=org.agent1).update(
        lead_comment="고객 010-2345-6789 건 응대 좋음"
    )  # as if stored before the guard: the export masks it anyway
    about, header, body = csv_table(evaluation_export(client, org.director))
    assert about["Month"] == "2026-03" and about["Status"].startswith("Open")
    assert len(header) == len(set(header))
    agents = {r[header.index("Agent")]: r for r in body}
    assert set(agents) == {"agent1", "agent2", "agent3", "agent4"}  # the whole center
    a1 = agents["agent1"]
    assert a1[header.index("CSAT")] == "75.0%" and a1[header.index("Call count")] == "20.0"
    assert a1[header.index("Rank in department")] == "2" and a1[header.index("Band")] == "B"
    comment = a1[header.index("Team lead's comment")]
    assert "010-2345-6789" not in comment and "6789" in comment
    settings.KPI_EVALUATION_MIN_DAYS = 2
    performance.performance_sheets_compute(month=month)
    about, header, body = csv_table(evaluation_export(client, org.director))
    a3 = next(r for r in body if r[header.index("Agent")] == "agent3")
    assert a3[header.index("Band")] == "Not ranked" and a3[header.index("Days worked")] == "1"
    assert "(at least 2 days)" in about["Ranked from"]
    assert a3[header.index("Days required")] == "2"


def test_a_manager_exports_only_their_departments(client, org, month):  # noqa: F811
    from tests.factories import CallFactory

    CallFactory(
        enqueued_at=datetime(2026, 3, 10, 10, tzinfo=timezone.get_current_timezone()),
        wait=1,
        agent=org.agent4,
        talk=10,
        acw=0,
        department=org.signup,
    )
    performance.performance_sheets_compute(month=month)
    assert PerformanceSheet.objects.filter(agent=org.agent4).exists()
    for kind in ("csv", "xlsx"):
        response = evaluation_export(client, org.manager, kind)
        about, header, body = (csv_table if kind == "csv" else xlsx_table)(response)
        agents = {r[header.index("Agent")] for r in body}
        assert agents == {"agent1", "agent2", "agent3"}, kind
        assert about["Departments"] == "일반"
    _about, header, body = csv_table(evaluation_export(client, org.lead1))
    assert {r[header.index("Agent")] for r in body} == {"agent1", "agent2"}


def test_the_evaluation_xlsx_has_formats_and_korean_headers_once(client, org, month):  # noqa: F811
    performance.performance_sheets_compute(month=month)
    response = evaluation_export(client, org.director, "xlsx", "ko")
    sheet = xlsx_sheet(response)
    _about, header, body = xlsx_table(response)
    assert len(header) == len(set(header))
    first_row = sheet.max_row - len(body) + 1
    names = [r[header.index("상담원")] for r in body]
    row = first_row + names.index("agent1")
    csat = sheet.cell(row=row, column=header.index("고객 만족도") + 1)
    assert csat.value == pytest.approx(0.75) and csat.number_format == "0.0%"
    assert response["Content-Disposition"].endswith('evaluation-202603.xlsx"')


def test_the_evaluation_page_links_its_exports(client, org, month):  # noqa: F811
    performance.performance_sheets_compute(month=month)
    client.force_login(org.director)
    body = client.get("/kpi/evaluations/?month=2026-03").content.decode()
    assert "month=2026-03&amp;export=xlsx" in body and "month=2026-03&amp;export=csv" in body
