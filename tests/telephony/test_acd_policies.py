"""Queue policies: tiers, overflow, strategies, priority, limits, callbacks that keep the
caller's place, maximum wait, and what the waiting caller hears."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from twilio.twiml.voice_response import VoiceResponse

from agents.models import AgentState, AgentStatus, QueueMembership
from telephony import selectors
from telephony.models import Call, CallPhase, FullAction, QueueTier, RoutingStrategy
from telephony.services.calls import call_left_queue, call_status_update, offer_accept
from telephony.services.common import QueueFullError
from telephony.services.receiving import (
    call_queue_timeout,
    call_receive,
    call_request_callback,
    call_to_voicemail,
)
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, SIGNUP_NUMBER, make_available, post_signed
from tests.factories import CustomerFactory, TicketFactory
from tickets.models import Customer, TicketStatus

T0 = timezone.now() - timedelta(hours=1)


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def receive(seconds=0, frm="+821011112222", number=GENERAL_NUMBER, **kw):
    return call_receive(sid=new_call_sid(), from_number=frm, to_number=number, at=at(seconds), **kw)


def route(seconds, queue=None):
    return acd_route(queue_id=queue.pk if queue else None, at=at(seconds))


def set_skill(person, queue, proficiency):
    QueueMembership.objects.update_or_create(
        person=person, queue=queue, defaults={"proficiency": proficiency}
    )


# --- Tiers and overflow -------------------------------------------------------------------


def test_tiers_widen_to_lower_proficiency_as_the_wait_grows(org):
    QueueTier.objects.create(queue=org.q_general, after_seconds=0, min_proficiency=8)
    QueueTier.objects.create(queue=org.q_general, after_seconds=30, min_proficiency=3)
    set_skill(org.agent1, org.q_general, 4)
    make_available(org.agent1, at=at(0))
    call = receive(1)
    assert route(10) == []  # only experts (≥ 8) during the first 30 s
    (offer,) = route(31)
    assert (offer.call_id, offer.agent_id) == (call.pk, org.agent1.pk)


def test_a_queue_whose_first_tier_starts_later_waits_for_it(org):
    QueueTier.objects.create(queue=org.q_general, after_seconds=5, min_proficiency=1)
    make_available(org.agent1, at=at(0))
    receive(1)
    assert route(3) == []
    assert len(route(6)) == 1


def test_calls_overflow_to_another_queues_agents_after_the_overflow_time(org):
    org.q_general.overflow_queue = org.q_signup
    org.q_general.overflow_after_seconds = 60
    org.q_general.save()
    make_available(org.agent4, at=at(0))  # 가입 only
    call = receive(1)
    assert route(30) == []
    (offer,) = route(62)
    assert offer.agent_id == org.agent4.pk
    call.refresh_from_db()
    assert call.overflowed_at is not None
    assert call.events.filter(kind="overflowed").exists()
    assert call.queue_id == org.q_general.pk  # it stays the 일반 queue's call in reports


def test_a_call_that_waited_longer_is_not_blocked_by_a_higher_priority_call_nobody_may_take(org):
    QueueTier.objects.create(queue=org.q_general, after_seconds=0, min_proficiency=9)
    QueueTier.objects.create(queue=org.q_general, after_seconds=60, min_proficiency=1)
    vip = Customer.objects.create(name="VIP", phone="+821099990000", is_vip=True)
    old = receive(0)
    new_vip = receive(100 - 5, frm=vip.phone)
    assert new_vip.priority > old.priority
    make_available(org.agent1, at=at(0))  # proficiency 5
    (offer,) = route(100)
    assert offer.call_id == old.pk  # the VIP is still in the experts-only tier


# --- Strategies ---------------------------------------------------------------------------


def test_round_robin_takes_turns_regardless_of_idle_time(org):
    org.q_general.strategy = RoutingStrategy.ROUND_ROBIN
    org.q_general.save()
    agents = sorted([org.agent1, org.agent2, org.agent3], key=lambda p: p.pk)
    order = []
    for i in range(4):
        make_available(*agents, at=at(i * 100))
        call = receive(i * 100 + 1)
        (offer,) = route(i * 100 + 2, org.q_general)
        order.append(offer.agent_id)
        call_status_update(sid=call.sid, status="completed", sequence_number=9, at=at(i * 100 + 3))
    ids = [p.pk for p in agents]
    assert order == [ids[0], ids[1], ids[2], ids[0]]


def test_fewest_calls_prefers_the_agent_who_has_taken_the_fewest_today(org):
    org.q_general.strategy = RoutingStrategy.FEWEST_CALLS
    org.q_general.save()
    today = timezone.localdate()
    AgentStatus.objects.filter(person=org.agent1).update(calls_today=5, calls_today_date=today)
    AgentStatus.objects.filter(person=org.agent2).update(calls_today=2, calls_today_date=today)
    # agent3's 9 calls were yesterday: today they have none
    AgentStatus.objects.filter(person=org.agent3).update(
        calls_today=9, calls_today_date=today - timedelta(days=1)
    )
    make_available(org.agent3, org.agent1, org.agent2, at=timezone.now())
    call_receive(sid=new_call_sid(), from_number="+821011112222", to_number=GENERAL_NUMBER)
    (offer,) = acd_route()
    assert offer.agent_id == org.agent3.pk


def test_skill_level_order_prefers_the_most_proficient(org):
    org.q_general.strategy = RoutingStrategy.SKILL_LEVEL
    org.q_general.save()
    set_skill(org.agent2, org.q_general, 9)
    make_available(org.agent1, at=at(0))
    make_available(org.agent2, at=at(5))  # less idle, more skilled
    receive(10)
    (offer,) = route(11)
    assert offer.agent_id == org.agent2.pk


def test_accepting_counts_the_agents_calls_today(org):
    make_available(org.agent1)
    call_receive(sid=new_call_sid(), from_number="+821011112222", to_number=GENERAL_NUMBER)
    (offer,) = acd_route()
    offer_accept(agent=org.agent1, offer_id=offer.pk)
    status = AgentStatus.objects.get(person=org.agent1)
    assert (status.calls_today, status.calls_today_date) == (1, timezone.localdate())


# --- Priority -----------------------------------------------------------------------------


def test_vips_and_callers_with_an_open_ticket_wait_ahead(org):
    vip = CustomerFactory(name="VIP", is_vip=True)
    returning = CustomerFactory(name="재문의")
    TicketFactory(customer=returning, team=None, department=org.general, status=TicketStatus.NEW)
    plain = receive(0)
    back = receive(1, frm=returning.phone)
    important = receive(2, frm=vip.phone)
    assert [c.priority for c in (plain, back, important)] == [0, 10, 20]
    assert selectors.queue_position(important) == 1
    assert selectors.queue_position(back) == 2
    assert selectors.queue_position(plain) == 3
    make_available(org.agent1, at=at(0))
    (offer,) = route(3)
    assert offer.call_id == important.pk


# --- Limits, callbacks, voicemail -----------------------------------------------------------


def test_a_full_queue_refuses_new_callers_but_booked_callbacks_hold_no_line(org):
    org.q_general.max_size = 2
    org.q_general.save()
    first = receive(0)
    receive(1)
    with pytest.raises(QueueFullError):
        receive(2)
    call_request_callback(sid=first.sid, at=at(3))
    receive(4)  # the callback freed a line


def test_a_callback_keeps_the_callers_place_and_is_not_an_abandon(org):
    first = receive(0)
    second = receive(10)
    call_request_callback(sid=first.sid, at=at(20))
    # The caller hangs up after booking: no abandon, the call keeps waiting.
    call_status_update(sid=first.sid, status="completed", sequence_number=3, at=at(21))
    call_left_queue(sid=first.sid, result="leave", at=at(21))
    first.refresh_from_db()
    assert first.phase == CallPhase.QUEUED
    assert first.enqueued_at == at(0)
    assert first.callback_number == "+821011112222"
    assert not first.events.filter(kind="abandoned").exists()
    make_available(org.agent1, at=at(0))
    (offer,) = route(30)
    assert offer.call_id == first.pk  # ahead of the caller who stayed on the line
    assert second.pk != offer.call_id


def test_accepting_a_callback_dials_the_customer_instead_of_redirecting_a_live_call(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    requests = []

    class Recorder:
        def dial_callback(self, *, call_id, offer_id):
            requests.append(("dial_callback", call_id, offer_id))

        def connect_to_agent(self, *, call_sid, offer_id):
            requests.append(("connect", call_sid, offer_id))

    monkeypatch.setattr("telephony.gateway.get_gateway", lambda: Recorder())
    call = receive(0)
    call_request_callback(sid=call.sid, at=at(1))
    make_available(org.agent1, at=at(0))
    (offer,) = route(5)
    with django_capture_on_commit_callbacks(execute=True):
        offer_accept(agent=org.agent1, offer_id=offer.pk, at=at(6))
    assert requests == [("dial_callback", call.pk, offer.pk)]


def test_max_wait_books_a_callback_when_the_queue_says_so(org):
    org.q_general.max_wait_seconds = 120
    org.q_general.full_action = FullAction.CALLBACK
    org.q_general.save()
    call = receive(0)
    assert call_queue_timeout(sid=call.sid, at=at(130)).is_callback
    call.refresh_from_db()
    assert call.queue_exit == "max_wait"


def test_max_wait_with_voicemail_ends_the_call_without_an_abandon(org):
    org.q_general.max_wait_seconds = 120
    org.q_general.full_action = FullAction.VOICEMAIL
    org.q_general.save()
    call = receive(0)
    call_queue_timeout(sid=call.sid, at=at(130))
    call_to_voicemail(sid=call.sid, at=at(131))
    call_status_update(sid=call.sid, status="completed", sequence_number=4, at=at(200))
    call.refresh_from_db()
    assert call.phase == CallPhase.VOICEMAIL
    assert not call.events.filter(kind="abandoned").exists()


# --- What the waiting caller hears (webhooks) ---------------------------------------------


def wait_url():
    return reverse("telephony:voice-queue-wait")


def test_the_wait_music_announces_position_and_expected_wait(client, org):
    make_available(org.agent3)
    org.agent3.status.state = AgentState.ON_CALL
    AgentStatus.objects.filter(person=org.agent3).update(state=AgentState.ON_CALL)
    first = call_receive(sid=new_call_sid(), from_number="+8210", to_number=GENERAL_NUMBER)
    second = call_receive(sid=new_call_sid(), from_number="+8211", to_number=GENERAL_NUMBER)
    response = post_signed(client, wait_url(), {"CallSid": second.sid, "QueuePosition": "2"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "2" in body and "<Pause" in body
    assert "<Gather" in body  # 2 × 240 s expected > 120 s: a callback is offered
    assert first.pk != second.pk


def test_pressing_1_while_waiting_books_a_callback_and_leaves_the_queue(client, org):
    call = call_receive(sid=new_call_sid(), from_number="+8210", to_number=GENERAL_NUMBER)
    response = post_signed(client, wait_url(), {"CallSid": call.sid, "Digits": "1"})
    assert "<Leave" in response.content.decode()
    result = post_signed(
        client,
        reverse("telephony:voice-queue-result"),
        {"CallSid": call.sid, "QueueResult": "leave", "QueueTime": "40"},
    )
    assert "<Hangup" in result.content.decode()
    call.refresh_from_db()
    assert call.is_callback and call.phase == CallPhase.QUEUED


def test_over_the_maximum_wait_the_caller_is_asked_for_a_voicemail(client, org):
    org.q_general.max_wait_seconds = 60
    org.q_general.full_action = FullAction.VOICEMAIL
    org.q_general.save()
    call = call_receive(
        sid=new_call_sid(),
        from_number="+8210",
        to_number=GENERAL_NUMBER,
        at=timezone.now() - timedelta(seconds=90),
    )
    response = post_signed(client, wait_url(), {"CallSid": call.sid, "QueueTime": "90"})
    assert "<Leave" in response.content.decode()
    result = post_signed(
        client,
        reverse("telephony:voice-queue-result"),
        {"CallSid": call.sid, "QueueResult": "leave", "QueueTime": "90"},
    )
    assert "<Record" in result.content.decode()
    call.refresh_from_db()
    assert call.phase == CallPhase.VOICEMAIL


def test_a_full_queue_books_a_callback_at_the_door(client, org):
    org.q_general.max_size = 1
    org.q_general.save()
    call_receive(sid=new_call_sid(), from_number="+8210", to_number=GENERAL_NUMBER)
    sid = new_call_sid()
    response = post_signed(
        client,
        reverse("telephony:voice-incoming"),
        {"CallSid": sid, "From": "+821055556666", "To": GENERAL_NUMBER, "CallStatus": "ringing"},
    )
    assert "<Hangup" in response.content.decode()
    call = Call.objects.get(sid=sid)
    assert call.is_callback and call.queue_exit == "full"


def test_a_callback_at_the_door_commits_with_its_call_or_not_at_all(client, org, monkeypatch):
    """The call's row and its booked callback are one transaction: the router, asked after
    the commit, never sees the caller on the line, and a failure leaves no row behind."""
    org.q_general.max_size = 1
    org.q_general.save()
    call_receive(sid=new_call_sid(), from_number="+8210", to_number=GENERAL_NUMBER)

    def moved_on(**_kwargs):
        from django.core.exceptions import ValidationError

        raise ValidationError("This call is no longer waiting.")

    monkeypatch.setattr("telephony.services.receiving.call_request_callback", moved_on)
    sid = new_call_sid()
    response = post_signed(
        client,
        reverse("telephony:voice-incoming"),
        {"CallSid": sid, "From": "+821055556666", "To": GENERAL_NUMBER, "CallStatus": "ringing"},
    )
    assert response.status_code == 409
    assert not Call.objects.filter(sid=sid).exists()


def test_the_recording_notice_is_spoken_in_the_callers_language(org):
    from telephony import twiml

    call = receive(0, number=SIGNUP_NUMBER, language="en")
    body = str(twiml.enqueue_response(call))
    assert "recorded" in body and 'language="en-US"' in body
    assert isinstance(twiml.enqueue_response(call, announce_recording=False), VoiceResponse)


def test_a_simulated_caller_out_of_patience_can_book_a_callback(client, org):
    from telephony.simulator import Simulator
    from tests.conftest import ClientTransport

    sim = Simulator(ClientTransport(client))
    sid = sim.place_call(from_number="+821077778888", to_number=GENERAL_NUMBER)
    assert sim.caller_asks_for_callback(call_sid=sid)
    call = Call.objects.get(sid=sid)
    assert call.is_callback and call.phase == CallPhase.QUEUED
    assert call.twilio_status == "completed"  # the caller hung up, yet it is no abandon
    sim.caller_asks_for_callback(call_sid=sid)  # a replayed key press books nothing more
    assert call.events.filter(kind="callback_requested").count() == 1


def test_the_expected_wait_is_zero_while_an_agent_is_free_and_grows_with_the_line(org):
    make_available(org.agent1)
    assert selectors.queue_expected_wait_seconds(org.q_general) == 0.0
    AgentStatus.objects.filter(person=org.agent2).update(state=AgentState.ON_CALL)
    for i in range(3):
        receive(i, frm=f"+82101111000{i}")
    # 3 waiting + the newcomer = position 4; one free agent takes one; 2 serving agents.
    assert selectors.queue_expected_wait_seconds(org.q_general) == pytest.approx(
        (4 - 1) / 2 * selectors.DEFAULT_HANDLE_SECONDS
    )
    AgentStatus.objects.all().update(state=AgentState.OFFLINE)
    assert selectors.queue_expected_wait_seconds(org.q_general) is None
