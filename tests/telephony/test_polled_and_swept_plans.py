"""What runs every few seconds (the ACD sweep, the desktop and team-board polls, the SLA
alerts) and what answers a caller (the expected wait, an SMS survey reply) finds its rows
through an index, not by reading a year of history.

A plan audit on a year-sized database (500,000 calls, 484,000 offers, 200,000 tickets,
190,000 surveys; SQLite without statistics, as a fresh install runs, and PostgreSQL after
ANALYZE) found each of these reading whole tables: 100–330 ms per query on SQLite, several
of them every 2 s. The tests run the real functions, capture their SQL and read its plan:
on SQLite the index they must use, on PostgreSQL no sequential scan of the big table."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from desk.selectors import desktop_state_for
from telephony.models import (
    Call,
    CallDirection,
    CallPhase,
    Offer,
    OfferStatus,
    SmsMessage,
    Survey,
    SurveyChannel,
)
from telephony.selectors import queue_handle_seconds
from telephony.services.outbound import dials_expire_stuck
from telephony.services.routing import agents_heal_stuck, offers_expire_due
from telephony.services.surveys import survey_sms_reply
from tests.plans import analyze, explain
from tickets.models import Customer, SlaState, Ticket, TicketStatus
from tickets.selectors import sla_alert_counts, sla_alerts_for
from tickets.services.sla import sla_sweep

pytestmark = pytest.mark.django_db

HISTORY = 3000


@pytest.fixture
def history(org):
    """A few months of handled calls, decided offers, answered surveys and closed tickets
    (a few of them breached their SLA), for the agents of team A; and a live call."""
    now = timezone.now()
    agents = [org.agent1, org.agent2]
    calls = Call.objects.bulk_create(
        Call(
            sid=f"CAhist{i:06d}",
            from_number=f"+8210{70000000 + i:08d}",
            to_number=org.general.phone_number,
            department=org.general,
            queue=org.q_general,
            agent=agents[i % 2],
            team=org.team_a,
            phase=CallPhase.COMPLETED,
            enqueued_at=now - timedelta(days=2 + i % 90, minutes=i % 600),
            answered_at=now - timedelta(days=2 + i % 90, minutes=i % 600),
            ended_at=now - timedelta(days=2 + i % 90, minutes=i % 600),
            wrapup_ended_at=now - timedelta(days=2 + i % 90, minutes=i % 600),
            wrapup_submitted_at=now - timedelta(days=2 + i % 90, minutes=i % 600),
            talk_seconds=120,
        )
        for i in range(HISTORY)
    )
    # (last changed when they were handled, not when this test wrote them)
    Call.objects.filter(pk__in=[c.pk for c in calls]).update(updated_at=F("ended_at"))
    Offer.objects.bulk_create(
        Offer(
            call=call,
            agent=call.agent,
            status=OfferStatus.ACCEPTED,
            offered_at=call.enqueued_at,
            expires_at=call.enqueued_at + timedelta(seconds=20),
            decided_at=call.enqueued_at,
        )
        for call in calls
    )
    Survey.objects.bulk_create(
        Survey(
            channel=SurveyChannel.SMS,
            call_sid=call.sid,
            call=call,
            agent=call.agent,
            phone=call.from_number,
            sent_at=call.wrapup_ended_at,
            score=4,
        )
        for call in calls
    )
    customer = Customer.objects.create(phone="+821055550000", name="고객")
    Ticket.objects.bulk_create(
        Ticket(
            customer=customer,
            department=org.general,
            team=org.team_a,
            assignee=agents[i % 2],
            subject="지난 문의",
            status=TicketStatus.CLOSED,
            # most met their SLA; the few that breached keep saying so once closed
            sla_state=SlaState.BREACHED if i % 50 == 0 else SlaState.MET,
            created_at=now - timedelta(days=2 + i % 90),
            updated_at=now - timedelta(days=2 + i % 90),
        )
        for i in range(HISTORY)
    )
    # live: a follow-up still dialling, a callback leg connected but never placed
    Call.objects.create(
        sid="CAdialing",
        from_number=org.general.phone_number,
        to_number="+821012340000",
        department=org.general,
        queue=org.q_general,
        agent=org.agent1,
        direction=CallDirection.OUTBOUND,
        phase=CallPhase.DIALING,
        enqueued_at=now,
    )
    analyze("telephony_call", "telephony_offer", "kpi_survey", "tickets_ticket")
    return org


def _plans(ctx: CaptureQueriesContext, table: str) -> list[tuple[str, str]]:
    """(SQL, plan) of every captured read of `table`."""
    out = []
    for query in ctx.captured_queries:
        # (.iterator() on PostgreSQL reads through a server-side cursor: DECLARE … FOR SELECT)
        sql = re.sub(r"^DECLARE .*? CURSOR .*?FOR (?=SELECT)", "", query["sql"])
        if not sql.lstrip().upper().startswith("SELECT") or f'"{table}"' not in sql:
            continue
        out.append((sql, explain(sql)))
    assert out, f"no read of {table} captured"
    return out


def _check(ctx, table: str, *, sqlite_index: str, where: str = "") -> None:
    """Every captured read of `table` (whose SQL matches `where`) is planned through an
    index: on SQLite the one named, and never a scan of the table; on PostgreSQL no
    sequential scan of it."""
    checked = 0
    for sql, plan in _plans(ctx, table):
        if where and not re.search(where, sql):
            continue
        checked += 1
        if connection.vendor == "sqlite":
            assert not re.search(rf"\bSCAN {table}\b(?! USING)", plan), (sql, plan)
            assert sqlite_index in plan, (sql, plan)
        else:
            assert f"Seq Scan on {table} " not in f"{plan} ", (sql, plan)
    assert checked, f"no read of {table} matching {where!r}"


def test_the_sweeps_stuck_dials_use_the_live_phase_indexes(history):
    with CaptureQueriesContext(connection) as ctx:
        dials_expire_stuck()
    _check(ctx, "telephony_call", sqlite_index="call_dialing", where="dialing")
    _check(ctx, "telephony_call", sqlite_index="call_connected", where="connected")


def test_the_sweeps_overdue_offers_use_the_pending_offers_index(history):
    with CaptureQueriesContext(connection) as ctx:
        offers_expire_due()
    _check(ctx, "telephony_offer", sqlite_index="offer_pending_expiry", where="expires_at")


def test_the_reaper_looks_up_each_agents_live_call_by_agent_and_phase(history):
    from agents.models import AgentState, AgentStatus

    AgentStatus.objects.filter(person=history.agent2).update(state=AgentState.ON_CALL)
    with CaptureQueriesContext(connection) as ctx:
        agents_heal_stuck()
    _check(ctx, "telephony_call", sqlite_index="call_agent_phase", where="connected")


def test_the_expected_wait_reads_the_queues_recent_wrap_ups_only(history):
    with CaptureQueriesContext(connection) as ctx:
        queue_handle_seconds(history.q_general)
    _check(ctx, "telephony_call", sqlite_index="call_queue_wrapped_up")


def test_the_desktop_poll_reads_the_agents_live_calls_not_their_history(history):
    with CaptureQueriesContext(connection) as ctx:
        state = desktop_state_for(history.agent1)
    assert state.call is not None and state.call.sid == "CAdialing"
    assert state.unfinished == []
    _check(ctx, "telephony_call", sqlite_index="call_agent_phase", where=r"IN \('dialing'")
    _check(
        ctx,
        "telephony_call",
        sqlite_index="call_wrapup_unsubmitted",
        where=r'"telephony_call"\."wrapup_submitted_at" IS NULL',
    )
    _check(ctx, "telephony_call", sqlite_index="call_agent_phase", where=r"COUNT\(\*\)")


def test_an_unsubmitted_wrap_up_is_still_listed(history):
    call = Call.objects.filter(agent=history.agent1, phase=CallPhase.COMPLETED).first()
    Call.objects.filter(pk=call.pk).update(wrapup_submitted_at=None)
    assert [c.pk for c in desktop_state_for(history.agent1).unfinished] == [call.pk]


def test_an_sms_reply_finds_its_survey_by_the_number(history):
    message = SmsMessage(sid="SMreply1", from_number="+821099990000", to_number="+8215880000")
    with CaptureQueriesContext(connection) as ctx:
        assert survey_sms_reply(message=message) is None  # no survey was sent to it
    _check(ctx, "kpi_survey", sqlite_index="survey_phone_sent")


@pytest.mark.parametrize("who", ["agent1", "lead1"])
def test_sla_alerts_read_open_warnings_not_every_breach_ever(history, who):
    person = getattr(history, who)
    with CaptureQueriesContext(connection) as ctx:
        assert list(sla_alerts_for(person)) == []  # every breached ticket is closed
        assert sla_alert_counts(person) == {"breached": 0, "warning": 0}
    index = "ticket_assignee_sla" if who == "agent1" else "ticket_team_sla"
    _check(ctx, "tickets_ticket", sqlite_index=index, where="sla_state")


def test_the_sla_sweep_reads_running_clocks_only(history):
    with CaptureQueriesContext(connection) as ctx:
        assert sla_sweep() == 0
    _check(ctx, "tickets_ticket", sqlite_index="ticket_status_sla", where="sla_state")


def test_the_kpi_fill_reads_the_calls_changed_since_its_last_run(history):
    from kpi.services.watermarks import _touched_intervals, kpi_mark_filled

    kpi_mark_filled(now=timezone.now())
    with CaptureQueriesContext(connection) as ctx:
        _touched_intervals(timezone.now())  # what the incremental fill reads first
    _check(
        ctx,
        "telephony_call",
        sqlite_index="telephony_call_updated_at",
        where=r'WHERE "telephony_call"\."updated_at" >=',
    )
