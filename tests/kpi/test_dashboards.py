"""Role dashboards: scoped by the person's reach, read rollups only, drill down to calls,
export CSV/XLSX, bounded query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.models import Target, TargetMetric
from kpi.services.fill import kpi_backfill
from tests.factories import CallFactory, PersonFactory, QueueMembershipFactory
from tests.kpi.exports import csv_table, xlsx_table

TODAY = "kpi/"


# tests.callcenter.test_caller_numbers_masked looks for this caller, masked.
CALLER = "+821012345678"


@pytest.fixture
def today(org):
    now = timezone.localtime()
    base = now.replace(hour=0, minute=5, second=0, microsecond=0)
    for i in range(3):
        CallFactory(
            from_number=CALLER,
            enqueued_at=base + timedelta(minutes=i),
            wait=4,
            agent=org.agent1,
            talk=100,
            acw=20,
        )
    CallFactory(
        from_number=CALLER,
        enqueued_at=base + timedelta(minutes=5),
        wait=8,
        agent=org.agent3,
        talk=300,
        acw=60,
    )
    CallFactory(
        from_number=CALLER,
        enqueued_at=base + timedelta(minutes=6),
        wait=9,
        agent=org.agent4,
        talk=50,
        acw=0,
        department=org.signup,
    )
    CallFactory(
        from_number=CALLER,
        abandoned=True,
        enqueued_at=base + timedelta(minutes=7),
        wait=30,
        department=org.general,
    )
    kpi_backfill(start=base.replace(minute=0), end=now + timedelta(minutes=1))
    return base


def page(client, person, query=""):
    client.force_login(person)
    return client.get(f"/kpi/{query}")


def test_an_agent_sees_their_own_day_and_month(client, org, today):
    body = page(client, org.agent1).content.decode()
    assert "agent1" in body and "agent2" not in body and "agent3" not in body
    assert f'data-scope="agent-{org.agent1.pk}"' in body


def test_a_team_lead_sees_only_their_team(client, org, today):
    body = page(client, org.lead1).content.decode()
    assert f'data-scope="agent-{org.agent1.pk}"' in body
    assert f'data-scope="agent-{org.agent3.pk}"' not in body  # another team's agent
    assert f'data-scope="team-{org.team_b.pk}"' not in body


def test_a_manager_sees_their_departments_and_queues(client, org, today):
    body = page(client, org.manager).content.decode()
    assert f'data-scope="department-{org.general.pk}"' in body
    assert f'data-scope="queue-{org.q_general.pk}"' in body
    assert f'data-scope="department-{org.signup.pk}"' not in body
    assert 'data-chart="chart-by-hour"' in body and 'data-chart="chart-by-weekday"' in body


def test_the_director_sees_center_targets_and_teams(client, org, today):
    Target.objects.create(
        department=org.general,
        metric=TargetMetric.AHT,
        value=60,
        effective_from=today.replace(day=1),
        set_at=timezone.now(),
    )
    body = page(client, org.director).content.decode()
    assert f'data-scope="center-{org.center.pk}"' in body
    assert "kpi-targets" in body
    # 일반's AHT is (3×120 + 360) / 4 = 180 s against a 60 s target: shown as below.
    assert 'class="num below">3:00' in body


def test_filters_narrow_to_a_department(client, org, today):
    body = page(client, org.director, f"?department={org.signup.pk}").content.decode()
    assert f'data-scope="department-{org.signup.pk}"' in body
    assert f'data-scope="department-{org.general.pk}"' not in body


def test_a_filter_outside_scope_or_a_bad_date_is_a_form_error(client, org, today):
    assert page(client, org.manager, f"?department={org.signup.pk}").status_code == 400
    assert page(client, org.manager, "?start=2026-13-40").status_code == 400
    assert page(client, org.manager, "?start=2026-03-05&end=2026-03-01").status_code == 400


def drill(client, person, kind, scope_id, metric, day):
    client.force_login(person)
    return client.get(
        "/kpi/calls/",
        {"kind": kind, "id": scope_id, "metric": metric, "start": day, "end": day},
    )


def test_every_number_drills_down_to_its_calls(client, org, today):
    day = today.date().isoformat()
    response = drill(client, org.lead1, "agent", org.agent1.pk, "handled", day)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3
    response = drill(client, org.manager, "queue", org.q_general.pk, "abandoned", day)
    assert response.context["page"].paginator.count == 1


def test_a_team_lead_cannot_drill_into_another_teams_agent(client, org, today):
    day = today.date().isoformat()
    assert drill(client, org.lead1, "agent", org.agent3.pk, "handled", day).status_code == 404
    assert drill(client, org.agent1, "agent", org.agent2.pk, "handled", day).status_code == 404
    assert (
        drill(client, org.manager, "department", org.signup.pk, "offered", day).status_code == 404
    )


def test_a_bad_drill_link_is_a_400(client, org, today):
    client.force_login(org.director)
    assert client.get("/kpi/calls/", {"kind": "planet", "id": 1}).status_code == 400


def test_csv_export_has_the_pages_rows(client, org, today):
    response = page(client, org.lead1, "?export=csv")
    assert response["Content-Type"].startswith("text/csv")
    _about, header, body = csv_table(response)
    units = {r[1] for r in body}
    assert "agent1" in units and "agent3" not in units
    agent1 = next(r for r in body if r[1] == "agent1")
    assert agent1[header.index("Handled" if "Handled" in header else "처리")] == "3"


def test_xlsx_export_opens_in_openpyxl(client, org, today):
    response = page(client, org.director, "?export=xlsx")
    _about, _header, body = xlsx_table(response)
    assert len(body) > 3 and body[0][0] in {"Center", "센터"}


def test_the_kpi_table_shows_the_answer_rate_beside_the_service_level(client, org, today):
    # 일반's queue today: 4 answered of 5 offered (one abandoned) → 응대율 80.0 %.
    client.force_login(org.manager)
    response = client.get("/kpi/", HTTP_ACCEPT_LANGUAGE="ko")
    body = response.content.decode()
    head = body[body.index('<table class="grid kpi-table">') : body.index("</thead>")]
    assert head.index("응대율") < head.index("서비스 레벨")
    queue_row = body[body.index(f'data-scope="queue-{org.q_general.pk}"') :]
    queue_row = queue_row[: queue_row.index("</tr>")]
    cell = queue_row[queue_row.index('class="num answer-rate"') :]
    assert cell[: cell.index("</td>")].endswith(">80.0%</a>")


def test_exports_carry_the_answer_rate(client, org, today):
    _about, header, rows = csv_table(page(client, org.manager, "?export=csv"))
    column = header.index("응대율" if "응대율" in header else "Answer rate")
    assert header[column + 1] in {"서비스 레벨", "Service level"}
    queue = next(r for r in rows if r[1] == org.q_general.name)
    assert queue[column] == "80.0%"
    client.force_login(org.manager)
    api = client.get("/api/kpi/today/").json()
    queue = next(r for r in api if r["kind"] == "queue" and r["id"] == org.q_general.pk)
    assert queue["answer_rate"] == pytest.approx(0.8)


def _queries(client, person) -> int:
    client.force_login(person)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/kpi/").status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["agent1", "lead1", "manager", "director"])
def test_dashboard_queries_do_not_grow_with_agents_or_calls(
    client, org, today, who, django_assert_max_num_queries
):
    person = getattr(org, who)
    before = _queries(client, person)
    for i in range(15):
        agent = PersonFactory(username=f"extra{i}", team=org.team_a)
        QueueMembershipFactory(person=agent, queue=org.q_general)
        CallFactory(
            enqueued_at=today + timedelta(minutes=20 + i), wait=3, agent=agent, talk=60, acw=0
        )
    kpi_backfill(start=today.replace(minute=0), end=timezone.now() + timedelta(minutes=1))
    assert _queries(client, person) == before
    client.force_login(person)
    with django_assert_max_num_queries(16):
        client.get("/kpi/")


def test_the_kpi_api_gives_every_metric_within_scope(client, org, today):
    client.force_login(org.lead1)
    rows = client.get("/api/kpi/today/").json()
    kinds = {(r["kind"], r["id"]) for r in rows}
    assert ("agent", org.agent1.pk) in kinds and ("agent", org.agent3.pk) not in kinds
    agent1 = next(r for r in rows if r["kind"] == "agent" and r["id"] == org.agent1.pk)
    assert agent1["handled"] == 3 and agent1["aht_seconds"] == 120
    assert {"service_level", "fcr", "csat", "occupancy", "qa_average"} <= agent1.keys()


def test_the_drill_down_query_count_does_not_grow_with_calls(
    client, org, today, django_assert_max_num_queries
):
    for i in range(30):
        CallFactory(
            enqueued_at=today + timedelta(minutes=30 + i), wait=3, agent=org.agent1, talk=60, acw=0
        )
    client.force_login(org.manager)
    with django_assert_max_num_queries(14):
        day = today.date().isoformat()  # the page alone: signing in is not the drill-down
        response = client.get(
            "/kpi/calls/",
            {
                "kind": "queue",
                "id": org.q_general.pk,
                "metric": "handled",
                "start": day,
                "end": day,
            },
        )
    assert response.context["page"].paginator.count == 34
