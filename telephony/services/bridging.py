"""Caller and agents bridged through a Twilio Conference: hold/resume, transfers (cold,
warm, and 실장 연결: escalation to a 실장, direct or after talking to them first), and the
conference and Dial-action callbacks. A lead listening in: telephony.services.monitoring.

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
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import AgentState, Person, Role
from agents.roles import roles_that
from agents.services.states import agent_set_escalations_only, agent_status_lock, agent_transition
from callcenter.inputs import parse_id
from telephony.models import Call, CallPhase, Handover, Offer, Queue
from telephony.services.calls import _end_connected, _release_offer
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


# --- Transfers -----------------------------------------------------------------------------


def team_lead_for(agent: Person) -> Person | None:
    """The 실장 of the agent's own team (none for a team lead: they are the 실장)."""
    if not agent.team_id or agent.role == Role.TEAM_LEAD:
        return None
    return (
        Person.objects.filter(role=Role.TEAM_LEAD, team_id=agent.team_id, is_active=True)
        .annotate(status_state=F("status__state"))
        .order_by("pk")
        .first()
    )


# Why 실장 연결 sent the caller to the queue instead of to a 실장.
NO_LEAD = "no_lead"  # the team has no 실장 and no other 실장 takes escalations
LEAD_UNAVAILABLE = "lead_unavailable"  # nobody who takes escalations is Available


@dataclass(frozen=True)
class EscalationTarget:
    """Who 실장 연결 rings now: `lead` (None: the call waits in the queue, for `reason`);
    `own_lead` is the agent's own 실장, whether or not they are the one who rings."""

    lead: Person | None
    own_lead: Person | None
    reason: str = ""


def escalation_target(agent: Person) -> EscalationTarget:
    """Read-only: the agent's own 실장 when Available; else another 실장 of the department
    who is Available for 실장 연결 only, the longest waiting first; else nobody."""
    own = team_lead_for(agent)
    if own is not None and own.pk == agent.pk:
        own = None
    if own is not None and own.status_state == AgentState.AVAILABLE:
        return EscalationTarget(own, own)
    other = (
        Person.objects.filter(
            role=Role.TEAM_LEAD,
            is_active=True,
            team__department__teams__members=agent,
            status__state=AgentState.AVAILABLE,
            status__escalations_only=True,
        )
        .exclude(pk=agent.pk)
        .order_by("status__available_since", "pk")
        .first()
    )
    if other is not None:
        return EscalationTarget(other, own)
    return EscalationTarget(None, own, NO_LEAD if own is None else LEAD_UNAVAILABLE)


def _department_queue(person: Person) -> Queue:
    queue = Queue.objects.filter(department__teams__members=person).first()
    if queue is None:
        raise ValidationError(_("%(name)s's department has no queue.") % {"name": person})
    return queue


def _new_segment(call: Call, queue: Queue, at: datetime) -> Call:
    last = Call.objects.filter(sid=call.sid).order_by("-segment").values_list("segment", flat=True)
    return Call.objects.create(
        sid=call.sid,
        segment=last[0] + 1,
        parent=call,
        direction=call.direction,
        language=call.language,
        from_number=call.from_number,
        to_number=call.to_number,
        department=queue.department,
        queue=queue,
        customer=call.customer,
        phase=CallPhase.QUEUED,
        twilio_status=call.twilio_status,
        last_sequence_number=call.last_sequence_number,
        priority=queue.transfer_priority,
        enqueued_at=at,
        callback_sid=call.callback_sid,
        conference_sid=call.conference_sid,
    )


def _offer_directly(segment: Call, status, at: datetime) -> Offer:
    """The new segment rings the chosen person at once (they must be Available)."""
    offer = Offer.objects.create(
        call=segment,
        agent_id=status.person_id,
        offered_at=at,
        expires_at=at + timedelta(seconds=segment.queue.reservation_timeout_seconds),
        agent_idle_since=status.available_since,
    )
    segment.phase = CallPhase.OFFERED
    segment.save(update_fields=["phase", "updated_at"])
    agent_transition(status=status, to_state=AgentState.RESERVED, at=at)
    _event(segment, "offered", at, actor=status.person, offer=offer.pk)
    return offer


def _transfer(
    call: Call,
    *,
    agent: Person,
    queue: Queue,
    target_status=None,
    warm: bool,
    kind: str,
    at: datetime,
    reason: str = "",
) -> Call:
    """Trusted core. Precondition: `call` is locked, connected and the agent's own; the
    target's status (if any) is locked and AVAILABLE."""
    if transfer_pending(call):
        raise ValidationError(_("A transfer of this call is already under way."))
    segment = _new_segment(call, queue, at)
    target_id = target_status.person_id if target_status else None
    if target_status is not None:
        _offer_directly(segment, target_status, at)
    details = {"warm": warm, "transfer_kind": kind, "queue": queue.pk, "to_agent": target_id}
    if reason:
        details["reason"] = reason
    _event(call, "transfer", at, actor=agent, to_call=segment.pk, **details)
    _event(segment, "transferred_in", at, actor=agent, from_call=call.pk, **details)
    if call.hold_started_at is None:
        call.hold_started_at = at  # the customer waits on hold until the next agent joins
    if not warm:
        _mark_handover(call, kind=kind, to_agent_id=target_id)
    call.save()
    if not warm:
        _end_connected(call, at, by="transfer", actor=agent)
    conference, sid, label = _conference(call), call.sid, agent_label(agent.pk)

    def provider() -> None:
        gateway = _gateway()
        gateway.participant_hold(conference=conference, call_sid=sid, hold=True)
        if not warm:
            gateway.participant_remove(conference=conference, call_sid=sid, label=label)

    transaction.on_commit(provider)
    if segment.phase == CallPhase.QUEUED:
        from telephony.tasks import acd_route_soon

        transaction.on_commit(lambda: acd_route_soon(queue_id=queue.pk))
    return segment


def _mark_handover(call: Call, *, kind: str, to_agent_id: int | None) -> None:
    """The agent's segment records where the caller went (saved by the caller)."""
    if kind == "escalation":
        call.handover = Handover.ESCALATED if to_agent_id else Handover.ESCALATION_QUEUED
    else:
        call.handover = Handover.TRANSFERRED
    call.handover_to_id = to_agent_id


def _lock_available(person: Person):
    status = agent_status_lock(person_id=person.pk)
    if status.state != AgentState.AVAILABLE:
        raise ValidationError(_("%(name)s is not available.") % {"name": person})
    return status


@transaction.atomic
def call_transfer(
    *,
    agent: Person,
    call_id: int,
    to_agent_id: int | None = None,
    to_queue_id: int | None = None,
    warm: bool = False,
    at: datetime | None = None,
) -> Call:
    """Transfer the agent's call to another agent (rings them directly) or a queue (waits
    there ahead of others, with the queue's transfer priority). Cold: the agent's segment
    ends now and they go to wrap-up. Warm: the customer holds while the agent talks to the
    next agent, then completes (`transfer_complete`) or cancels (`transfer_cancel`).
    Returns the new segment."""
    at = at or timezone.now()
    if (to_agent_id is None) == (to_queue_id is None):
        raise ValidationError(_("Choose either an agent or a queue."))
    call = _lock_own_call(agent, call_id)
    if to_agent_id is not None:
        target = (
            Person.objects.filter(pk=to_agent_id, is_active=True, role__in=roles_that("take_calls"))
            .exclude(pk=agent.pk)
            .first()
        )
        if target is None:
            raise ValidationError(_("Choose another agent."))
        queue = _department_queue(target)
        status = _lock_available(target)
        return _transfer(
            call, agent=agent, queue=queue, target_status=status, warm=warm, kind="agent", at=at
        )
    queue = Queue.objects.select_related("department").filter(pk=to_queue_id).first()
    if queue is None:
        raise ValidationError(_("Choose a queue."))
    return _transfer(call, agent=agent, queue=queue, warm=warm, kind="queue", at=at)


@transaction.atomic
def call_escalate(
    *, agent: Person, call_id: int, warm: bool = False, at: datetime | None = None
) -> Call:
    """실장 연결 ("상관 바꿔"): hand the customer to a 실장 — the agent's own when Available,
    else another of the department's 실장 who is Available for 실장 연결 only
    (`escalation_target`) — ringing them directly. Nobody available: the call waits in the
    department's queue at the front (transfer priority), and the agent's call says why.
    Cold (default): the agent's segment ends and they go to wrap-up. Warm: the customer
    holds while the agent talks to the 실장 first, then completes (`transfer_complete`) or
    cancels and goes back to the customer (`transfer_cancel`); only with a 실장 to talk to."""
    at = at or timezone.now()
    call = _lock_own_call(agent, call_id)
    queue = _department_queue(agent)
    target = escalation_target(agent)
    reason = target.reason
    status = agent_status_lock(person_id=target.lead.pk) if target.lead else None
    if status is not None and status.state != AgentState.AVAILABLE:
        status, reason = None, LEAD_UNAVAILABLE  # taken a moment ago
    if warm and status is None:
        raise ValidationError(
            _(
                "No team lead is available to talk to first: hand the caller over (they "
                "wait at the front of the queue) or keep the call."
            )
        )
    return _transfer(
        call,
        agent=agent,
        queue=queue,
        target_status=status,
        warm=warm,
        kind="escalation",
        at=at,
        reason=reason,
    )


def _lock_pending_transfer(call: Call) -> Call:
    segment = transfer_pending(call)
    if segment is None:
        raise ValidationError(_("There is no transfer to complete or cancel."))
    return Call.objects.select_for_update(of=("self",)).select_related("queue").get(pk=segment.pk)


@transaction.atomic
def transfer_complete(*, agent: Person, call_id: int, at: datetime | None = None) -> Call:
    """Warm transfer: the transferring agent leaves; the customer talks to the next agent
    (or keeps holding until they answer). The agent's segment ends; wrap-up starts."""
    at = at or timezone.now()
    call = _lock_own_call(agent, call_id)
    segment = _lock_pending_transfer(call)
    started = call.events.filter(kind="transfer").order_by("-id").values_list("data", flat=True)
    kind = (started.first() or {}).get("transfer_kind", "agent")
    _mark_handover(call, kind=kind, to_agent_id=segment.agent_id)
    _end_connected(call, at, by="transfer", actor=agent)  # saves the call
    _event(call, "transfer_completed", at, actor=agent, to_call=segment.pk)
    _event(segment, "transfer_completed", at, actor=agent, from_call=call.pk)
    conference, sid, label = _conference(call), call.sid, agent_label(agent.pk)
    answered = segment.phase == CallPhase.CONNECTED

    def provider() -> None:
        gateway = _gateway()
        gateway.participant_remove(conference=conference, call_sid=sid, label=label)
        if answered:
            gateway.participant_hold(conference=conference, call_sid=sid, hold=False)

    transaction.on_commit(provider)
    return segment


@transaction.atomic
def transfer_cancel(*, agent: Person, call_id: int, at: datetime | None = None) -> Call:
    """Warm transfer called off: the next agent is dropped (back to Available if they had
    not answered, to wrap-up if they had talked) and the customer is back with the agent."""
    at = at or timezone.now()
    call = _lock_own_call(agent, call_id)
    segment = _lock_pending_transfer(call)
    dropped = segment.agent_id
    if segment.phase in PENDING_PHASES:
        _release_offer(segment, at)
        segment.phase = CallPhase.FAILED
        segment.ended_at = at
        segment.queue_exit = "transfer_cancelled"
        segment.save()
    else:
        _end_connected(segment, at, by="transfer_cancelled", actor=agent)
    _event(segment, "transfer_cancelled", at, actor=agent, from_call=call.pk)
    _event(call, "transfer_cancelled", at, actor=agent, to_call=segment.pk)
    _close_hold(call, at)
    call.save()
    _event(call, "resume", at, actor=agent, hold_seconds=call.hold_seconds)
    conference, sid = _conference(call), call.sid

    def provider() -> None:
        gateway = _gateway()
        if dropped:
            gateway.participant_remove(
                conference=conference, call_sid=sid, label=agent_label(dropped)
            )
        gateway.participant_hold(conference=conference, call_sid=sid, hold=False)

    transaction.on_commit(provider)
    return call


def consult_leave(*, segment: Call, agent: Person, at: datetime) -> Call:
    """The agent asked for a warm transfer hangs up during the consult: they leave the
    conference and wrap up their part; the customer stays, on hold, with the agent who
    asked (who resumes or transfers elsewhere). Precondition: `segment` is locked, it is
    `agent`'s and its parent segment is still connected."""
    _end_connected(segment, at, by="consult_left", actor=agent)
    _event(segment.parent, "transfer_cancelled", at, actor=agent, to_call=segment.pk)
    conference, sid, label = _conference(segment), segment.sid, agent_label(agent.pk)
    transaction.on_commit(
        lambda: _gateway().participant_remove(conference=conference, call_sid=sid, label=label)
    )
    return segment


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
