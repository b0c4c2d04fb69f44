"""SLA clocks on the business calendar: only business hours count, holidays do not, pending
customer pauses the clock, warnings come before and at breach (the sweep), once each."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import TicketFactory
from tickets.models import BusinessHours, Holiday, SlaPolicy, SlaState, TicketEvent
from tickets.services.sla import sla_refresh, sla_sweep
from tickets.services.tickets import ticket_note_add, ticket_update
from tickets.sla import calendar_for_center

SEOUL = ZoneInfo("Asia/Seoul")


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=SEOUL)  # 2026-11-23 is a Monday


@pytest.fixture
def calendar(org):
    for weekday in range(5):
        BusinessHours.objects.create(
            center=org.center, weekday=weekday, opens=time(9), closes=time(18)
        )
    SlaPolicy.objects.create(
        center=org.center,
        priority="normal",
        first_response_minutes=60,
        resolution_minutes=8 * 60,
        warn_before_minutes=60,
    )
    return org


def test_business_seconds_skip_nights_weekends_and_holidays(calendar):
    Holiday.objects.create(center=calendar.center, date=at(25, 0).date(), name="휴일")
    cal = calendar_for_center(calendar.center.pk)
    assert cal.business_seconds(at(23, 17), at(24, 10)) == 2 * 3600  # 17–18 + 9–10
    assert cal.business_seconds(at(27, 17), at(30, 10)) == 2 * 3600  # Fri → Mon
    assert cal.business_seconds(at(24, 17), at(26, 10)) == 2 * 3600  # Wed holiday skipped
    assert cal.add_business_seconds(at(23, 17, 30), 3600) == at(24, 9, 30)


def test_a_ticket_created_in_the_evening_is_due_next_business_day(calendar):
    ticket = TicketFactory(team=calendar.team_a, created_at=at(23, 17, 30), priority="normal")
    sla_refresh(ticket=ticket, now=at(23, 17, 30))
    assert (ticket.sla_target, ticket.sla_state) == ("first_response", SlaState.WARNING)
    assert ticket.sla_due_at == at(24, 9, 30)


def test_pending_customer_pauses_the_clock(calendar):
    ticket = TicketFactory(team=calendar.team_a, created_at=at(23, 9), priority="normal")
    ticket_note_add(actor=calendar.agent1, ticket=ticket, body="안내", at=at(23, 9, 30))
    ticket.refresh_from_db()
    assert ticket.sla_target == "resolution"
    assert ticket.sla_due_at == at(23, 17)  # 8 business hours from 09:00
    ticket_update(
        actor=calendar.agent1,
        ticket_id=ticket.pk,
        changes={"status": "pending_customer"},
        at=at(23, 10),
    )
    ticket.refresh_from_db()
    sla_refresh(ticket=ticket, now=at(24, 15))
    assert (ticket.sla_state, ticket.sla_due_at) == (SlaState.PAUSED, None)
    ticket_update(
        actor=calendar.agent1, ticket_id=ticket.pk, changes={"status": "open"}, at=at(24, 15)
    )
    ticket.refresh_from_db()
    # 1 h ran before the pause; 7 h remain from Tuesday 15:00 → Wednesday 13:00.
    assert ticket.sla_due_at == at(25, 13)
    assert ticket.sla_state == SlaState.OK


def test_the_sweep_warns_before_and_at_breach_once_each(calendar):
    ticket = TicketFactory(team=calendar.team_a, created_at=at(23, 9), priority="normal")
    sla_refresh(ticket=ticket, now=at(23, 9))
    assert ticket.sla_state == SlaState.WARNING  # 60-minute target, warned 60 min ahead
    for minute in (10, 20):
        sla_sweep(now=at(23, 9, minute))
    assert TicketEvent.objects.filter(ticket=ticket, kind="sla_warning").count() == 1
    sla_sweep(now=at(23, 10, 1))
    sla_sweep(now=at(23, 11))
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.BREACHED
    assert ticket.sla_due_at == at(23, 10)
    assert TicketEvent.objects.filter(ticket=ticket, kind="sla_breach").count() == 1


def test_a_resolved_ticket_has_met_its_sla_and_a_center_without_policy_has_none(calendar):
    ticket = TicketFactory(team=calendar.team_a, created_at=at(23, 9), priority="normal")
    ticket_note_add(
        actor=calendar.agent1, ticket=ticket, body="처리 완료", status="resolved", at=at(23, 9, 5)
    )
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.MET
    urgent = TicketFactory(
        team=calendar.team_a,
        created_at=at(23, 9),
        priority="urgent",
        customer__phone="+821011112222",
    )
    sla_refresh(ticket=urgent, now=at(23, 12))
    assert urgent.sla_state == SlaState.NONE


def test_a_center_without_business_hours_counts_every_hour(org):
    cal = calendar_for_center(org.center.pk)
    assert cal.business_seconds(at(28, 0), at(29, 0)) == timedelta(days=1).total_seconds()


def test_a_reopened_ticket_is_not_charged_the_days_it_sat_resolved(calendar):
    ticket = TicketFactory(team=calendar.team_a, created_at=at(23, 9), priority="normal")
    ticket_note_add(actor=calendar.agent1, ticket=ticket, body="안내", at=at(23, 9, 30))
    ticket_update(
        actor=calendar.agent1, ticket_id=ticket.pk, changes={"status": "resolved"}, at=at(23, 11)
    )
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.MET
    # Reopened on Thursday 10:00: 2 h ran before it was resolved, 6 h remain → 16:00.
    ticket_update(
        actor=calendar.agent1, ticket_id=ticket.pk, changes={"status": "open"}, at=at(26, 10)
    )
    ticket.refresh_from_db()
    assert (ticket.sla_target, ticket.sla_state) == ("resolution", SlaState.OK)
    assert ticket.sla_due_at == at(26, 16)


def test_a_ticket_resolved_after_its_due_time_stays_breached(calendar):
    ticket = TicketFactory(team=calendar.team_a, created_at=at(23, 9), priority="normal")
    ticket_note_add(actor=calendar.agent1, ticket=ticket, body="안내", at=at(23, 9, 30))
    # Resolution due Monday 17:00 (8 business hours); resolved Tuesday 10:00.
    ticket_note_add(
        actor=calendar.agent1, ticket=ticket, body="처리 완료", status="resolved", at=at(24, 10)
    )
    ticket.refresh_from_db()
    assert (ticket.sla_state, ticket.sla_target) == (SlaState.BREACHED, "resolution")
    assert ticket.sla_due_at == at(23, 17)
    # Recomputing later changes nothing; the list badge reads the stored state.
    sla_refresh(ticket=ticket, now=at(30, 12))
    assert ticket.sla_state == SlaState.BREACHED
    assert type(ticket).objects.get(pk=ticket.pk).sla_state == SlaState.BREACHED


def test_a_late_first_response_breaches_a_ticket_resolved_in_time(calendar):
    ticket = TicketFactory(team=calendar.team_a, created_at=at(23, 9), priority="normal")
    ticket_note_add(
        actor=calendar.agent1, ticket=ticket, body="처리 완료", status="resolved", at=at(23, 11)
    )
    ticket.refresh_from_db()
    assert (ticket.sla_state, ticket.sla_target) == (SlaState.BREACHED, "first_response")
    assert ticket.sla_due_at == at(23, 10)


def test_time_resolved_before_a_reopen_does_not_count(calendar):
    ticket = TicketFactory(team=calendar.team_a, created_at=at(23, 9), priority="normal")
    ticket_note_add(actor=calendar.agent1, ticket=ticket, body="안내", at=at(23, 9, 30))
    ticket_note_add(
        actor=calendar.agent1, ticket=ticket, body="완료", status="resolved", at=at(23, 11)
    )
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.MET
    # Reopened on Wednesday 09:00: 2 h ran before the resolution, 6 h remain.
    ticket_update(
        actor=calendar.agent1, ticket_id=ticket.pk, changes={"status": "open"}, at=at(25, 9)
    )
    ticket.refresh_from_db()
    assert (ticket.sla_state, ticket.sla_due_at) == (SlaState.OK, at(25, 15))
    ticket_update(
        actor=calendar.agent1, ticket_id=ticket.pk, changes={"status": "resolved"}, at=at(25, 14)
    )
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.MET  # 2 h + 5 h < 8 h, the resolved days left out


def test_business_hours_past_midnight_count(org):
    # Friday 22:00 → Saturday 06:00 (a night shift).
    BusinessHours.objects.create(center=org.center, weekday=4, opens=time(22), closes=time(6))
    cal = calendar_for_center(org.center.pk)
    assert cal.business_seconds(at(27, 21), at(28, 7)) == 8 * 3600
    assert cal.business_seconds(at(28, 1), at(28, 5)) == 4 * 3600  # starts after midnight
    assert cal.add_business_seconds(at(28, 2), 3600) == at(28, 3)
    assert cal.add_business_seconds(at(27, 12), 3600) == at(27, 23)


def test_business_hours_with_an_empty_window_are_rejected(org):
    from django.core.exceptions import ValidationError

    row = BusinessHours(center=org.center, weekday=0, opens=time(9), closes=time(9))
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert "closes" in caught.value.message_dict
    BusinessHours(center=org.center, weekday=0, opens=time(22), closes=time(6)).full_clean()


def test_sla_recheck_fixes_a_resolved_ticket_stored_as_met(calendar):
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from tickets.models import Ticket

    # Two weeks back (the command recomputes at the real now): a Monday, resolved Tuesday.
    monday = timezone.localdate() - timedelta(days=14)
    monday -= timedelta(days=monday.weekday())

    def day(offset, hour, minute=0):
        return datetime.combine(monday + timedelta(days=offset), time(hour, minute), SEOUL)

    ticket = TicketFactory(team=calendar.team_a, created_at=day(0, 9), priority="normal")
    ticket_note_add(actor=calendar.agent1, ticket=ticket, body="안내", at=day(0, 9, 30))
    ticket_note_add(
        actor=calendar.agent1, ticket=ticket, body="완료", status="resolved", at=day(1, 10)
    )
    Ticket.objects.filter(pk=ticket.pk).update(sla_state=SlaState.MET, sla_due_at=None)
    out = StringIO()
    call_command("sla_recheck", stdout=out)
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.BREACHED
    assert out.getvalue().startswith("1 ")
    call_command("sla_recheck", stdout=out)
    assert out.getvalue().splitlines()[-1].startswith("0 ")
