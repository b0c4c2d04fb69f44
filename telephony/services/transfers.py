"""Transfers of a bridged call: cold and warm to an agent or a queue, 실장 연결 (escalation
to a 실장, direct or after talking to them first), completing or cancelling a warm one, and
an agent leaving a consult. The customer's leg stays in its conference throughout
(telephony.services.bridging)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import AgentState, Person, Role
from agents.roles import roles_that
from agents.services.states import agent_status_lock, agent_transition
from telephony.models import Call, CallPhase, Handover, Offer, Queue
from telephony.services.bridging import (
    PENDING_PHASES,
    _close_hold,
    _conference,
    _gateway,
    _lock_own_call,
    agent_label,
    transfer_pending,
)
from telephony.services.calls import _end_connected, _release_offer
from telephony.services.common import _event

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
