"""Longest-idle routing gives a newcomer a fair turn: an agent who chooses Available counts
as idle since their last call work ended today, or with none today since their shift
started (working hours), else since the day began; not since the moment they clicked, which
put anyone signing in behind every colleague who had been taking calls all along."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from agents.models import AgentState, AgentStatus, NotReadyReason, WorkingHours
from agents.services.states import agent_idle_since, agent_set_state
from telephony.services.calls import call_hangup, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.services.wrapup import wrapup_submit
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available

# Everything happens on one day (yesterday, so never in the future), at explicit times.
NOON = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=1), time(12, 0)))


def receive(at):
    return call_receive(
        sid=new_call_sid(), from_number="+821011112222", to_number=GENERAL_NUMBER, at=at
    )


def finish_a_call(org, agent, *, ended_at):
    """`agent` (the only one available) takes a call and ends its wrap-up at `ended_at`."""
    start = ended_at - timedelta(minutes=5)
    make_available(agent, at=start)
    call = receive(at=start + timedelta(seconds=5))
    (offer,) = acd_route(queue_id=org.q_general.pk, at=start + timedelta(seconds=5))
    assert offer.agent_id == agent.pk
    offer_accept(agent=agent, offer_id=offer.pk, at=start + timedelta(seconds=10))
    call_hangup(agent=agent, call_id=call.pk, at=ended_at - timedelta(seconds=30))
    wrapup_submit(
        agent=agent,
        call_id=call.pk,
        disposition_id=org.general.dispositions.get(code="resolved").pk,
        note="안내 완료",
        subject="요금 문의",
        at=ended_at,
    )
    assert AgentStatus.objects.get(person=agent).state == AgentState.AVAILABLE


def next_offer_goes_to(org, at):
    receive(at=at)
    (offer,) = acd_route(queue_id=org.q_general.pk, at=at)
    return offer.agent


def test_a_newcomer_is_offered_before_a_colleague_who_just_finished_a_call(org):
    finish_a_call(org, org.agent2, ended_at=NOON - timedelta(minutes=1))
    make_available(org.agent1, at=NOON)  # signs in a minute later, no call yet today
    assert next_offer_goes_to(org, NOON + timedelta(seconds=10)) == org.agent1


def test_back_from_a_break_keeps_the_place_of_the_last_call(org):
    finish_a_call(org, org.agent1, ended_at=NOON - timedelta(minutes=40))
    agent_set_state(
        person=org.agent1,
        state=AgentState.NOT_READY,
        reason=NotReadyReason.BREAK,
        at=NOON - timedelta(minutes=39),
    )
    finish_a_call(org, org.agent2, ended_at=NOON - timedelta(minutes=5))
    make_available(org.agent1, at=NOON)
    assert next_offer_goes_to(org, NOON + timedelta(seconds=10)) == org.agent1


def test_idle_since_the_shift_start_without_a_call_today(org):
    WorkingHours.objects.create(
        person=org.agent1, weekday=NOON.weekday(), starts=time(9, 0), ends=time(18, 0)
    )
    make_available(org.agent1, at=NOON)
    status = AgentStatus.objects.get(person=org.agent1)
    assert timezone.localtime(status.available_since) == NOON.replace(hour=9)
    # A shift that has not started yet: idle from now, not from the future.
    assert agent_idle_since(person=org.agent1, at=NOON.replace(hour=8)) == NOON.replace(hour=8)


def test_a_call_from_yesterday_does_not_count_today(org):
    finish_a_call(org, org.agent1, ended_at=NOON - timedelta(days=1))
    agent_set_state(person=org.agent1, state=AgentState.OFFLINE, at=NOON - timedelta(days=1))
    make_available(org.agent1, at=NOON)
    day_start = NOON.replace(hour=0)
    assert AgentStatus.objects.get(person=org.agent1).available_since == day_start


def test_after_wrap_up_the_agent_is_idle_from_then(org):
    ended = NOON - timedelta(minutes=3)
    finish_a_call(org, org.agent1, ended_at=ended)
    assert AgentStatus.objects.get(person=org.agent1).available_since == ended
