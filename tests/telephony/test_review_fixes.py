"""States that must not get lost or stuck: a break asked for while the phone rings, a
caller hanging up during a warm consult, a bridge the provider refused."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from agents.models import AgentState, AgentStatus, NotReadyReason
from agents.services.states import agent_set_state
from telephony.models import Call, CallPhase, Offer, OfferStatus
from telephony.services.calls import call_bridge_failed, call_status_update, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route, offers_expire_due
from telephony.services.transfers import call_transfer
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available

T0 = timezone.now() - timedelta(hours=1)


def at(seconds):
    return T0 + timedelta(seconds=seconds)


def state(person):
    return AgentStatus.objects.get(person=person)


def ring(agent, t=0):
    make_available(agent, at=at(t))
    call = call_receive(
        sid=new_call_sid(), from_number="+821011112222", to_number=GENERAL_NUMBER, at=at(t + 1)
    )
    (offer,) = acd_route(at=at(t + 2))
    return call, offer


def test_a_break_asked_for_while_ringing_survives_the_caller_hanging_up(org):
    call, _offer = ring(org.agent1)
    agent_set_state(
        person=org.agent1, state=AgentState.NOT_READY, reason=NotReadyReason.BREAK, at=at(3)
    )
    call_status_update(sid=call.sid, status="completed", sequence_number=2, at=at(4))
    status = state(org.agent1)
    assert (status.state, status.reason) == (AgentState.NOT_READY, NotReadyReason.BREAK)
    call_receive(
        sid=new_call_sid(), from_number="+821033334444", to_number=GENERAL_NUMBER, at=at(5)
    )
    assert acd_route(at=at(6)) == []  # on break: no more offers


def test_a_break_asked_for_while_ringing_wins_over_not_responding(org):
    _call, _offer = ring(org.agent1)
    agent_set_state(
        person=org.agent1, state=AgentState.NOT_READY, reason=NotReadyReason.LUNCH, at=at(3)
    )
    offers_expire_due(at=at(60))
    status = state(org.agent1)
    assert (status.state, status.reason) == (AgentState.NOT_READY, NotReadyReason.LUNCH)


def test_the_caller_hanging_up_during_a_warm_consult_ends_both_agents_segments(org):
    call, offer = ring(org.agent1)
    offer_accept(agent=org.agent1, offer_id=offer.pk, at=at(5))
    make_available(org.agent2, at=at(6))
    segment = call_transfer(
        agent=org.agent1, call_id=call.pk, to_agent_id=org.agent2.pk, warm=True, at=at(30)
    )
    second = Offer.objects.get(call=segment, status=OfferStatus.PENDING)
    offer_accept(agent=org.agent2, offer_id=second.pk, at=at(35))
    call_status_update(sid=call.sid, status="completed", sequence_number=9, at=at(50))
    call.refresh_from_db()
    segment.refresh_from_db()
    assert call.phase == CallPhase.WRAP_UP and segment.phase == CallPhase.WRAP_UP
    assert state(org.agent1).state == AgentState.WRAP_UP
    assert state(org.agent2).state == AgentState.WRAP_UP


def test_a_bridge_the_provider_refused_puts_the_call_back_in_line(org):
    call, offer = ring(org.agent1)
    offer_accept(agent=org.agent1, offer_id=offer.pk, at=at(5))
    call_bridge_failed(offer_id=offer.pk, at=at(20))
    call.refresh_from_db()
    assert call.phase == CallPhase.QUEUED and call.agent_id is None
    assert call.enqueued_at == at(1)  # keeps its place
    assert state(org.agent1).state == AgentState.AVAILABLE
    assert Offer.objects.get(pk=offer.pk).status == OfferStatus.CANCELLED


def test_a_bridge_that_happened_is_not_undone(org):
    call, offer = ring(org.agent1)
    offer_accept(agent=org.agent1, offer_id=offer.pk, at=at(5))
    call.events.create(kind="bridging", at=at(6), data={"offer": offer.pk})
    call_bridge_failed(offer_id=offer.pk, at=at(20))
    call.refresh_from_db()
    assert call.phase == CallPhase.CONNECTED


def test_a_refused_redirect_never_reaches_the_agents_request(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    class Refusing:
        def connect_to_agent(self, **kw):
            raise ConnectionError("Twilio said no")

    monkeypatch.setattr("telephony.gateway.get_gateway", lambda: Refusing())
    call, offer = ring(org.agent1)
    with django_capture_on_commit_callbacks(execute=True):
        offer_accept(agent=org.agent1, offer_id=offer.pk, at=at(5))
    assert Call.objects.get(pk=call.pk).phase == CallPhase.CONNECTED  # the worker retries


def test_a_non_ascii_ticket_id_is_a_400_not_a_500(client, org):
    from tickets.models import Customer

    customer = Customer.objects.create(name="고객", phone="+821055556666")
    make_available(org.agent1)
    client.force_login(org.agent1)
    response = client.post(reverse("desk:dial-out", args=[customer.pk]), {"ticket": "²"})
    assert response.status_code == 400
