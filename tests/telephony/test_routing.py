"""The ACD: who gets which call, timers, and no double assignment under concurrency."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from agents.models import AgentState, AgentStatus, NotReadyReason
from agents.services.states import agent_set_state
from telephony.models import Call, CallPhase, Offer, OfferStatus
from telephony.services.calls import call_hangup, call_status_update, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route, agents_heal_stuck, offers_expire_due
from telephony.services.wrapup import wrapup_submit, wrapups_expire_due
from telephony.simulator import new_call_sid
from tests.agents.test_idle_order import finish_a_call
from tests.conftest import GENERAL_NUMBER, make_available


def receive(at=None, frm="+821011112222"):
    return call_receive(sid=new_call_sid(), from_number=frm, to_number=GENERAL_NUMBER, at=at)


def state(person):
    return AgentStatus.objects.get(person=person).state


def test_the_longest_idle_agent_gets_the_longest_waiting_call(org):
    # agent1 finished a call a minute ago; agent2 signs in with none today, so counts as
    # idle since the day began (tests/agents/test_idle_order.py).
    t0 = timezone.now() - timedelta(minutes=10)
    finish_a_call(org, org.agent1, ended_at=t0 + timedelta(minutes=1))
    make_available(org.agent2, at=t0 + timedelta(minutes=1))
    first = receive(at=t0 + timedelta(minutes=2))
    receive(at=t0 + timedelta(minutes=3))
    offers = acd_route(queue_id=org.q_general.pk, at=t0 + timedelta(minutes=4))
    assert [(o.call_id, o.agent_id) for o in offers][0] == (first.pk, org.agent2.pk)
    assert {o.agent_id for o in offers} == {org.agent1.pk, org.agent2.pk}
    assert state(org.agent1) == AgentState.RESERVED


def test_an_agent_without_the_skill_is_never_offered(org):
    make_available(org.agent4)  # 가입 only
    receive()
    assert acd_route() == []


def test_a_full_call_lifecycle_records_talk_wrapup_and_ticket(org):
    t0 = timezone.now() - timedelta(minutes=30)
    make_available(org.agent1, at=t0)
    call = receive(at=t0 + timedelta(seconds=10))
    (offer,) = acd_route(at=t0 + timedelta(seconds=10))
    offer_accept(agent=org.agent1, offer_id=offer.pk, at=t0 + timedelta(seconds=25))
    call_hangup(agent=org.agent1, call_id=call.pk, at=t0 + timedelta(seconds=205))
    assert state(org.agent1) == AgentState.WRAP_UP
    disposition = org.general.dispositions.get(code="resolved")
    wrapup_submit(
        agent=org.agent1,
        call_id=call.pk,
        disposition_id=disposition.pk,
        note="요금 안내 완료",
        subject="요금 문의",
        at=t0 + timedelta(seconds=245),
    )
    call.refresh_from_db()
    assert call.phase == CallPhase.COMPLETED
    assert call.queue_wait_seconds == 15
    assert call.talk_seconds == 180
    assert call.acw_seconds == 40
    assert call.ticket.status == "resolved"
    assert call.ticket.notes.get().body == "요금 안내 완료"
    assert state(org.agent1) == AgentState.AVAILABLE
    states = list(org.agent1.state_intervals.order_by("id").values_list("state", flat=True))
    assert states == ["offline", "available", "reserved", "on_call", "wrap_up", "available"]


def test_a_break_requested_during_a_call_is_applied_after_wrapup(org):
    make_available(org.agent1)
    call = receive()
    (offer,) = acd_route()
    offer_accept(agent=org.agent1, offer_id=offer.pk)
    agent_set_state(person=org.agent1, state=AgentState.NOT_READY, reason=NotReadyReason.BREAK)
    assert state(org.agent1) == AgentState.ON_CALL
    call_hangup(agent=org.agent1, call_id=call.pk)
    wrapup_submit(
        agent=org.agent1,
        call_id=call.pk,
        disposition_id=org.general.dispositions.first().pk,
        note="n",
        subject="s",
    )
    status = AgentStatus.objects.get(person=org.agent1)
    assert (status.state, status.reason) == (AgentState.NOT_READY, NotReadyReason.BREAK)


def test_an_unanswered_offer_makes_the_agent_not_responding_and_requeues_ahead(org):
    t0 = timezone.now() - timedelta(minutes=5)
    make_available(org.agent1, at=t0)
    old = receive(at=t0)
    (offer,) = acd_route(at=t0)
    newer = receive(at=t0 + timedelta(seconds=5))
    offers_expire_due(at=t0 + timedelta(seconds=60))
    assert state(org.agent1) == AgentState.NOT_RESPONDING
    assert Offer.objects.get(pk=offer.pk).status == OfferStatus.EXPIRED
    old.refresh_from_db()
    assert old.phase == CallPhase.QUEUED and old.enqueued_at == t0  # keeps its wait time
    make_available(org.agent2, at=t0 + timedelta(seconds=61))
    (next_offer,) = acd_route(at=t0 + timedelta(seconds=62))
    assert next_offer.call_id == old.pk != newer.pk
    assert state(org.agent1) == AgentState.NOT_RESPONDING  # no more offers until they act


def test_a_caller_hanging_up_while_offered_frees_the_agent(org):
    make_available(org.agent1)
    call = receive()
    (offer,) = acd_route()
    call_status_update(sid=call.sid, status="completed", sequence_number=0)
    assert state(org.agent1) == AgentState.AVAILABLE
    assert Offer.objects.get(pk=offer.pk).status == OfferStatus.CANCELLED
    with pytest.raises(ValidationError):
        offer_accept(agent=org.agent1, offer_id=offer.pk)


def test_the_caller_hanging_up_puts_the_agent_in_wrapup(org):
    make_available(org.agent1)
    call = receive()
    (offer,) = acd_route()
    offer_accept(agent=org.agent1, offer_id=offer.pk)
    call_status_update(sid=call.sid, status="completed", sequence_number=3, duration=30)
    assert state(org.agent1) == AgentState.WRAP_UP
    assert Call.objects.get(pk=call.pk).phase == CallPhase.WRAP_UP


def test_wrapup_ends_on_its_timer_and_the_note_can_still_be_written(org):
    make_available(org.agent1)
    call = receive()
    (offer,) = acd_route()
    offer_accept(agent=org.agent1, offer_id=offer.pk)
    call_hangup(agent=org.agent1, call_id=call.pk)
    wrapups_expire_due(at=timezone.now() + timedelta(seconds=org.q_general.wrapup_seconds + 1))
    assert state(org.agent1) == AgentState.AVAILABLE
    call.refresh_from_db()
    assert call.phase == CallPhase.COMPLETED and call.acw_seconds == pytest.approx(
        org.q_general.wrapup_seconds, abs=1
    )
    wrapup_submit(
        agent=org.agent1,
        call_id=call.pk,
        disposition_id=org.general.dispositions.first().pk,
        note="late note",
        subject="s",
    )
    assert Call.objects.get(pk=call.pk).ticket is not None
    assert state(org.agent1) == AgentState.AVAILABLE


def test_the_reaper_heals_an_agent_stuck_in_reserved(org):
    make_available(org.agent1)
    receive()
    (offer,) = acd_route()
    Offer.objects.filter(pk=offer.pk).update(status=OfferStatus.CANCELLED)  # a lost callback
    assert agents_heal_stuck() == 1
    assert state(org.agent1) == AgentState.AVAILABLE


def test_another_agent_cannot_accept_my_offer(org):
    make_available(org.agent1)
    receive()
    (offer,) = acd_route()
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        offer_accept(agent=org.agent2, offer_id=offer.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_router_never_double_assigns_under_concurrent_attempts(org):
    """Eight threads route at once over 30 calls and 3 agents, repeatedly; every agent holds
    at most one offer and every call is offered at most once at a time."""
    for i in range(30):
        receive(frm=f"+8210555500{i:02d}")
    make_available(org.agent1, org.agent2, org.agent3)
    errors: list[BaseException] = []

    def worker():
        try:
            for _ in range(5):
                acd_route(queue_id=org.q_general.pk)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    for _round in range(4):
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        pending = Offer.objects.filter(status=OfferStatus.PENDING)
        assert pending.count() == 3
        assert pending.values("agent").distinct().count() == 3
        assert pending.values("call").distinct().count() == 3
        assert Call.objects.filter(phase=CallPhase.OFFERED).count() == 3
        assert AgentStatus.objects.filter(state=AgentState.RESERVED).count() == 3
        # Release them (as if callers hung up) for the next round.
        for offer in pending:
            call_status_update(sid=offer.call.sid, status="completed", sequence_number=0)
    assert errors == []
    assert Offer.objects.count() == 12
    assert Offer.objects.values("call").distinct().count() == 12
