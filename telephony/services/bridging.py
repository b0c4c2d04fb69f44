"""Caller and agents bridged through a Twilio Conference: hold/resume, connecting an
accepted offer, and the conference and Dial-action callbacks. Transfers and 실장 연결:
telephony.services.transfers. A lead listening in: telephony.services.monitoring.

The customer's leg stays in one conference (`twiml.conference_name`) for the whole call.
A transfer never moves it: the customer is put on hold (hold music), the transferring
agent leaves, and the next agent is added as a participant when they accept the new
segment. Redirecting the leg into `<Enqueue>` instead would end its `<Dial>`, tear the
bridge down, start a second conference and recording, and make a warm transfer (where both
agents and the customer share the bridge) impossible; holding inside the conference works
the same for every kind of transfer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import AgentState, Person
from agents.services.states import agent_set_escalations_only
from callcenter.inputs import parse_id
from telephony.models import Call, CallPhase, Offer
from telephony.services.calls import _end_connected
from telephony.services.common import LIVE_PHASES, _dedupe_seen, _event, call_for_sid

PENDING_PHASES = {CallPhase.QUEUED, CallPhase.OFFERED}


def agent_label(person_id: int) -> str:
    return f"agent-{person_id}"


def _gateway():
    from telephony.gateway import get_gateway

    return get_gateway()


def _conference(call: Call) -> str:
    """What the REST API addresses: the ConferenceSid once known, else the friendly name."""
    from telephony.twiml import conference_name

    return call.conference_sid or conference_name(call)


def _lock_own_call(agent: Person, call_id: int) -> Call:
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("queue")
        .filter(pk=call_id)
        .first()
    )
    if call is None or call.agent_id != agent.pk:
        raise PermissionDenied
    if call.phase != CallPhase.CONNECTED:
        raise ValidationError(_("This call is no longer connected."))
    return call


def _close_hold(call: Call, at: datetime) -> None:
    if call.hold_started_at is not None:
        call.hold_seconds += max(0.0, (at - call.hold_started_at).total_seconds())
        call.hold_started_at = None


def transfer_pending(call: Call) -> Call | None:
    """The newer segment a transfer of this call started and that is still live."""
    return (
        Call.objects.filter(parent=call, phase__in=LIVE_PHASES)
        .select_related("queue", "agent")
        .order_by("-segment")
        .first()
    )


# --- Hold / resume -------------------------------------------------------------------------


@transaction.atomic
def call_hold(*, agent: Person, call_id: int, at: datetime | None = None) -> Call:
    """The customer hears hold music; hold time counts apart from talk time."""
    at = at or timezone.now()
    call = _lock_own_call(agent, call_id)
    if call.hold_started_at is not None:
        return call
    call.hold_started_at = at
    call.save(update_fields=["hold_started_at", "updated_at"])
    _event(call, "hold", at, actor=agent)
    conference, sid = _conference(call), call.sid
    transaction.on_commit(
        lambda: _gateway().participant_hold(conference=conference, call_sid=sid, hold=True)
    )
    return call


@transaction.atomic
def call_resume(*, agent: Person, call_id: int, at: datetime | None = None) -> Call:
    at = at or timezone.now()
    call = _lock_own_call(agent, call_id)
    if call.hold_started_at is None:
        return call
    if transfer_pending(call):
        raise ValidationError(_("Complete or cancel the transfer first."))
    _close_hold(call, at)
    call.save(update_fields=["hold_seconds", "hold_started_at", "updated_at"])
    _event(call, "resume", at, actor=agent, hold_seconds=call.hold_seconds)
    conference, sid = _conference(call), call.sid
    transaction.on_commit(
        lambda: _gateway().participant_hold(conference=conference, call_sid=sid, hold=False)
    )
    return call


# --- A 실장 available for 실장 연결 only -----------------------------------------------------


@transaction.atomic
def lead_escalations_only(*, lead: Person, on: bool, at: datetime | None = None):
    """The 실장's "실장 연결만 받기": on, they are Available for escalations and the ACD
    passes them by; off, queue calls reach them again (routed at once if Available)."""
    status = agent_set_escalations_only(person=lead, on=on, at=at)
    if not on and status.state == AgentState.AVAILABLE:
        from telephony.tasks import acd_route_soon

        transaction.on_commit(acd_route_soon)
    return status


# --- Connecting an accepted offer ------------------------------------------------------------


@dataclass(frozen=True)
class AgentJoin:
    """What the gateway does when an offer is accepted."""

    customer_sid: str  # the leg Sangdam addresses (the call's sid)
    conference: str
    identity: str
    from_number: str
    label: str
    customer_in_conference: bool  # a transferred call: the customer is already holding there
    unhold_customer: bool  # nobody else is talking to them (not a warm consult)


def agent_join_plan(offer_id: int) -> AgentJoin | None:
    """Read-only: how to bring the offer's agent to its customer."""
    from telephony.twiml import agent_identity

    offer = Offer.objects.select_related("call__queue", "call__parent").filter(pk=offer_id).first()
    if offer is None:
        return None
    call = offer.call
    in_conference = (
        Call.objects.filter(sid=call.sid, answered_at__isnull=False).exclude(pk=call.pk).exists()
    )
    warm = call.parent is not None and call.parent.phase == CallPhase.CONNECTED
    return AgentJoin(
        customer_sid=call.sid,
        conference=_conference(call),
        identity=agent_identity(offer.agent_id),
        from_number=call.queue.outbound_caller_id,
        label=agent_label(offer.agent_id),
        customer_in_conference=in_conference,
        unhold_customer=in_conference and not warm,
    )


@transaction.atomic
def call_bridge_requested(*, offer_id: int, sid: str, at: datetime | None = None) -> bool:
    """The customer's leg fetched the connect TwiML: add the agent to the conference, once
    per offer (Twilio's retry of the webhook must not ring the agent twice)."""
    at = at or timezone.now()
    offer = Offer.objects.select_related("call").filter(pk=offer_id).first()
    if offer is None:
        return False
    key = f"{sid}:connect:{offer_id}"
    if _dedupe_seen(key):
        return False
    _event(offer.call, "bridging", at, dedupe_key=key, offer=offer_id, leg=sid)
    from telephony.tasks import conference_add_agent_soon

    transaction.on_commit(lambda: conference_add_agent_soon(offer_id=offer_id))
    return True


# --- Callbacks from Twilio ------------------------------------------------------------------

CONFERENCE_EVENTS = {
    "conference-start",
    "conference-end",
    "participant-join",
    "participant-leave",
    "participant-hold",
    "participant-unhold",
    "participant-mute",
    "participant-unmute",
    "participant-modify",
    "participant-speech-start",
    "participant-speech-stop",
    "announcement-end",
    "announcement-fail",
}


def _call_for_conference(friendly_name: str) -> Call | None:
    root_pk = parse_id(friendly_name.removeprefix("call-"))
    if root_pk is None:
        return None
    root = Call.objects.filter(pk=root_pk).values_list("sid", flat=True).first()
    return call_for_sid(root, lock=True) if root else None


def conference_event(
    *,
    conference_sid: str,
    friendly_name: str,
    event: str,
    call_sid: str = "",
    label: str = "",
    sequence_number: int | None = None,
    at: datetime | None = None,
) -> Call | None:
    """Conference status callback. Idempotent per conference + event + leg + sequence; the
    ConferenceSid and the agents' legs are stored on the segments. A leg that leaves on its
    own (the agent closed the softphone, the customer hung up) ends the talk it was in."""
    at = at or timezone.now()
    if event not in CONFERENCE_EVENTS:
        raise ValidationError(_("Unknown conference event."))
    key = f"{conference_sid}:{event}:{call_sid}:{sequence_number}"
    hang_up_customer = False
    with transaction.atomic():
        call = _call_for_conference(friendly_name)
        if call is None:
            return None
        if _dedupe_seen(key):
            return call
        _event(call, f"conference:{event}", at, dedupe_key=key, leg=call_sid, label=label)
        Call.objects.filter(sid=call.sid, conference_sid="").update(conference_sid=conference_sid)
        call.conference_sid = conference_sid
        customer = label == "customer" or (call_sid and call_sid in {call.sid, call.callback_sid})
        agent_id = parse_id(label.removeprefix("agent-")) if label.startswith("agent-") else None
        lead_id = parse_id(label.removeprefix("monitor-")) if label.startswith("monitor-") else None
        if event == "participant-leave" and lead_id is not None:
            # The lead hung up their softphone: they no longer listen.
            lead = Person.objects.filter(pk=lead_id).first()
            from telephony.services.monitoring import monitor_mode_of

            mode = monitor_mode_of(call, lead) if lead else ""
            if mode:
                _event(call, "monitor_stop", at, actor=lead, mode=mode, by="left")
        if event == "participant-join" and agent_id is not None:
            segment = (
                Call.objects.filter(sid=call.sid, agent_id=agent_id).order_by("-segment").first()
            )
            if segment is not None:
                Call.objects.filter(pk=segment.pk).update(agent_call_sid=call_sid)
        elif event == "participant-leave" and customer:
            # The status callback ends the newest segment; a warm consult has two.
            for segment in Call.objects.select_for_update(of=("self",)).filter(
                sid=call.sid, phase=CallPhase.CONNECTED
            ):
                _end_connected(segment, at, by="caller")
        elif event == "participant-leave" and agent_id is not None:
            segment = (
                Call.objects.select_for_update(of=("self",))
                .select_related("queue")
                .filter(sid=call.sid, agent_id=int(agent_id), phase=CallPhase.CONNECTED)
                .first()
            )
            if segment is not None:
                # Nobody asked them to leave: the agent hung up in their softphone.
                _end_connected(segment, at, by="agent")
                others = Call.objects.filter(sid=call.sid, phase__in=LIVE_PHASES).exists()
                hang_up_customer = not others
    if hang_up_customer:
        transaction.on_commit(lambda: _gateway().hangup(call_sid=call.sid))
    return call


@transaction.atomic
def call_dial_result(
    *, call_id: int, sid: str, status: str, at: datetime | None = None
) -> Call | None:
    """`<Dial>` action: the customer's leg left the conference. Returns the segment still
    waiting for an agent when a transfer is under way (the leg must rejoin and hold), else
    None (the leg hangs up). Replays change nothing."""
    at = at or timezone.now()
    call = Call.objects.filter(pk=call_id).first()
    if call is None or sid not in {call.sid, call.callback_sid}:
        return None
    key = f"{sid}:dial-result:{call_id}:{status}"
    if not _dedupe_seen(key):
        _event(call, "dial_result", at, dedupe_key=key, status=status)
    live = call_for_sid(call.sid)
    if live is not None and live.phase in PENDING_PHASES and live.segment > call.segment:
        return live
    return None
