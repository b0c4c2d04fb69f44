"""A customer's whole footprint, built through the services where they exist: calls (handled,
repeated within the FCR window, abandoned, a callback request), recordings, wrap-up notes
and tickets, notes, a follow-up, text messages both ways, a voicemail, a survey reply, a QA
evaluation with comments, a case-status check and an admin log entry. A second customer,
untouched by the first one's erasure, sits beside them. Old things are 40 days old, recent
ones a day old, so a 30-day retention splits them."""

from __future__ import annotations

import itertools
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from kpi.models import STAT_FIELDS, DailyStat, IntervalStat
from kpi.services.fill import kpi_backfill
from qa.models import EvaluationComment, EvaluationStatus
from qa.selectors.reports import report_scores
from telephony.services.calls import (
    call_hangup,
    call_recording_update,
    call_status_update,
    offer_accept,
)
from telephony.services.messages import sms_receive, voicemail_record
from telephony.services.receiving import call_receive, call_request_callback
from telephony.services.routing import acd_route
from telephony.services.wrapup import wrapup_submit
from telephony.simulator import new_call_sid
from telephony.sms import sms_send
from tests.conftest import GENERAL_NUMBER, make_available
from tests.factories import EvaluationFactory, SurveyFactory
from tickets.models import Customer, CustomerNote, StatusCheck
from tickets.services.customers import (
    customer_create,
    customer_phone_add,
    customer_update,
)
from tickets.services.followups import followup_create

HONG = SimpleNamespace(
    name="홍길동",
    phone="+821055501234",
    phone_national="010-5550-1234",
    phone_digits="01055501234",
    second="+821055509876",
    email="hong.gildong@example.com",
)
KIM = SimpleNamespace(name="김철수", phone="+821077770000", email="kim@example.com")
_recordings = itertools.count(1)


def handled_call(org, *, number, arrive, note, subject="문의", wait=10, talk=120, acw=30):
    call = call_receive(sid=new_call_sid(), from_number=number, to_number=GENERAL_NUMBER, at=arrive)
    offer = next(o for o in acd_route(at=arrive) if o.call_id == call.pk)
    answered = arrive + timedelta(seconds=wait)
    offer_accept(agent=offer.agent, offer_id=offer.pk, at=answered)
    ended = answered + timedelta(seconds=talk)
    call_hangup(agent=offer.agent, call_id=call.pk, at=ended)
    n = next(_recordings)
    call_recording_update(
        sid=call.sid,
        recording_sid=f"RE{n:032d}",
        url=f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE{n:032d}",
        status="completed",
        duration=int(talk),
    )
    wrapup_submit(
        agent=offer.agent,
        call_id=call.pk,
        disposition_id=org.general.dispositions.first().pk,
        note=note,
        subject=subject,
        at=ended + timedelta(seconds=acw),
    )
    call.refresh_from_db()
    return call


@pytest.fixture
def world(org):
    now = timezone.now()
    old = (now - timedelta(days=40)).replace(hour=1, minute=0, second=0, microsecond=0)
    recent = now - timedelta(days=1, hours=2)
    hong = customer_create(phone=HONG.phone_national, name=HONG.name, email=HONG.email)
    customer_phone_add(actor=org.agent1, customer=hong, phone=HONG.second)
    # The customer's history keeps the old name (tickets.CustomerEvent).
    customer_update(actor=org.agent1, customer=hong, changes={"name": f"{HONG.name} 님"})
    customer_update(actor=org.agent1, customer=hong, changes={"name": HONG.name})
    # A note that names the e-mail as written (stored before the PII guard, or through
    # a path without it): the erasure must reach such text too.
    CustomerNote.objects.create(
        customer=hong, author=org.agent1, body=f"{HONG.name}님 {HONG.email}로 안내", created_at=old
    )
    kim = customer_create(phone=KIM.phone, name=KIM.name, email=KIM.email)

    make_available(org.agent1, org.agent2, at=old - timedelta(minutes=5))
    calls = SimpleNamespace(
        hong_old=handled_call(
            org, number=HONG.phone, arrive=old, note=f"{HONG.name} 고객 {HONG.phone_national} 요금"
        ),
        kim_old=handled_call(
            org, number=KIM.phone, arrive=old + timedelta(minutes=1), note=f"{KIM.name} 문의"
        ),
        # Within the FCR window of the first: that contact was not resolved first time.
        hong_repeat=handled_call(
            org,
            number=HONG.phone,
            arrive=old + timedelta(days=2),
            note=f"재문의 {HONG.phone_digits}",
        ),
        hong_recent=handled_call(
            org, number=HONG.second, arrive=recent, note=f"{HONG.name} 해지 문의"
        ),
        kim_recent=handled_call(
            org, number=KIM.phone, arrive=recent + timedelta(minutes=5), note="최근 문의"
        ),
    )
    lost = call_receive(
        sid=new_call_sid(), from_number=HONG.second, to_number=GENERAL_NUMBER, at=old
    )
    call_status_update(
        sid=lost.sid, status="completed", sequence_number=0, at=old + timedelta(seconds=40)
    )
    waiting = call_receive(
        sid=new_call_sid(), from_number=HONG.phone, to_number=GENERAL_NUMBER, at=now
    )
    call_request_callback(sid=waiting.sid, number=HONG.second, at=now)

    ticket = calls.hong_old.ticket
    followup_create(
        actor=org.agent1,
        customer=hong,
        ticket=ticket,
        due_at=now + timedelta(days=1),
        note=f"{HONG.phone_national}로 회신",
        at=now,
    )
    sms_receive(
        sid="SM" + "1" * 32,
        from_number=HONG.phone,
        to_number=GENERAL_NUMBER,
        body=f"저 {HONG.name}인데요 {HONG.email}",
        at=old,
    )
    sms_receive(
        sid="SM" + "2" * 32,
        from_number=HONG.phone,
        to_number=GENERAL_NUMBER,
        body="최근 문자",
        at=recent,
    )
    sms_receive(
        sid="SM" + "3" * 32, from_number=KIM.phone, to_number=GENERAL_NUMBER, body="김 문자", at=old
    )
    sms_send(
        to=HONG.phone, body=f"{HONG.name}님 안내드립니다", department=org.general, customer=hong
    )
    voicemail_record(
        call_sid=lost.sid,
        recording_sid="RE" + "v" * 32,
        reason="closed",
        from_number=HONG.second,
        department_id=org.general.pk,
        url="https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE" + "v" * 32,
        status="completed",
        duration=20,
        at=old,
    )
    SurveyFactory(
        call=calls.hong_old,
        customer=hong,
        phone=HONG.phone,
        sent_at=old + timedelta(minutes=5),
        score=4,
        answered_at=old + timedelta(minutes=9),
        reply_text=f"4 {HONG.name}",
    )
    evaluation = EvaluationFactory(
        call=calls.hong_old,
        evaluator=org.lead1,
        status=EvaluationStatus.SUBMITTED,
        score=87.5,
        compliance_score=100.0,
        feedback=f"{HONG.name} 고객 응대 친절",
        created_at=old + timedelta(days=1),
        submitted_at=old + timedelta(days=1),
    )
    EvaluationComment.objects.create(
        evaluation=evaluation,
        author=org.lead1,
        at_seconds=12,
        body=f"번호 {HONG.phone_national} 복창 생략",
        created_at=old + timedelta(days=1),
    )
    StatusCheck.objects.create(
        ticket=ticket,
        ticket_key=str(ticket.pk),
        phone=HONG.phone,
        code_hash="x" * 64,
        created_at=now,
        expires_at=now + timedelta(minutes=10),
    )
    LogEntry.objects.create(
        user=org.director,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(hong.pk),
        object_repr=str(hong),
        action_flag=CHANGE,
        change_message="[]",
        action_time=now,
    )
    hong.refresh_from_db()
    return SimpleNamespace(
        org=org,
        now=now,
        old=old,
        recent=recent,
        hong=hong,
        kim=kim,
        calls=calls,
        evaluation=evaluation,
    )


def kpi_refill(world) -> None:
    """Rebuilds the days that have calls, as of one fixed moment (an agent still logged in
    adds time with every second otherwise)."""
    at = world.now + timedelta(minutes=1)
    kpi_backfill(start=world.old - timedelta(hours=1), end=world.old + timedelta(days=3), now=at)
    kpi_backfill(start=world.recent - timedelta(hours=1), end=at, now=at)


def _counters(row) -> tuple:
    # Seconds are summed in whatever order the database reads the rows: PostgreSQL's float
    # sums may differ in the last bits from one refill to the next, so compare to the µs.
    return tuple(
        round(v, 6) if isinstance(v, float) else v for v in (getattr(row, f) for f in STAT_FIELDS)
    )


def figures(world) -> dict:
    """Every rollup row's counters and the QA averages, after a full refill from the rows."""
    kpi_refill(world)
    interval = sorted(
        (r.scope_kind, r.scope_id, r.interval_start, _counters(r))
        for r in IntervalStat.objects.all()
    )
    daily = sorted(
        (r.scope_kind, r.scope_id, r.day, r.agents_handling, _counters(r))
        for r in DailyStat.objects.all()
    )
    _, qa_rows = report_scores(
        world.org.director,
        start=timezone.localdate(world.old).replace(day=1),
        end=timezone.localdate(),
        group="agent",
    )
    qa = sorted((r.key, r.count, r.average, r.compliance) for r in qa_rows)
    return {"interval": interval, "daily": daily, "qa": qa}
