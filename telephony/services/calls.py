"""Every write about one call: receiving it, answering, ending, wrap-up (후처리)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import AgentState, AgentStatus, Department, Person
from agents.services import agent_finish_work, agent_status_lock, agent_transition
from telephony.models import (
    TERMINAL_TWILIO_STATUSES,
    TWILIO_STATUSES,
    Call,
    CallPhase,
    Offer,
    OfferStatus,
)
from telephony.services.common import (
    UnknownNumberError,
    _dedupe_seen,
    _event,
    call_for_sid,
)

# --- Receiving ---------------------------------------------------------------------------


def call_receive(*, sid: str, from_number: str, to_number: str, at: datetime | None = None) -> Call:
    """An inbound call arrives: a Call row and a place in the department's queue.

    Idempotent per CallSid: Twilio's retry of the same webhook returns the existing call.
    """
    from tickets.selectors import customer_for_phone
    from tickets.services import phone_normalize

    at = at or timezone.now()
    existing = call_for_sid(sid)
    if existing:
        return existing
    called = phone_normalize(to_number) or to_number
    department = Department.objects.filter(phone_number=called).select_related("queue").first()
    if department is None:
        raise UnknownNumberError(to_number)
    caller = phone_normalize(from_number) or from_number
    customer = customer_for_phone(caller)
    # Returning callers with an open ticket wait ahead of first-time callers.
    priority = (
        1
        if customer and customer.tickets.exclude(status__in=["resolved", "closed"]).exists()
        else 0
    )
    try:
        with transaction.atomic():
            call = Call.objects.create(
                sid=sid,
                from_number=caller,
                to_number=called,
                department=department,
                queue=department.queue,
                customer=customer,
                priority=priority,
                enqueued_at=at,
                twilio_status="ringing",
            )
            _event(call, "enqueued", at, dedupe_key=f"{sid}:incoming", queue=department.queue.name)
    except IntegrityError:
        # A concurrent retry of the same webhook won the race.
        return call_for_sid(sid)
    from telephony.tasks import acd_route_soon

    transaction.on_commit(lambda: acd_route_soon(queue_id=department.queue.pk))
    return call


# --- Agent actions on a call -------------------------------------------------------------


@transaction.atomic
def offer_accept(*, agent: Person, offer_id: int, at: datetime | None = None) -> Call:
    """The agent answers the offered call: the call is bridged to them and talk starts."""
    at = at or timezone.now()
    status = agent_status_lock(person_id=agent.pk)
    offer = (
        Offer.objects.select_for_update(of=("self",))
        .select_related("call")
        .filter(pk=offer_id)
        .first()
    )
    if offer is None or offer.agent_id != agent.pk:
        raise PermissionDenied
    if offer.status != OfferStatus.PENDING or offer.expires_at < at:
        raise ValidationError(_("This call is no longer offered to you."))
    call = Call.objects.select_for_update().get(pk=offer.call_id)
    if call.phase != CallPhase.OFFERED:
        raise ValidationError(_("The caller has already hung up."))
    offer.status = OfferStatus.ACCEPTED
    offer.decided_at = at
    offer.save(update_fields=["status", "decided_at"])
    call.phase = CallPhase.CONNECTED
    call.agent = agent
    call.team_id = agent.team_id
    call.answered_at = at
    call.queue_wait_seconds = (at - call.enqueued_at).total_seconds()
    call.save()
    agent_transition(status=status, to_state=AgentState.ON_CALL, at=at)
    _event(call, "answered", at, actor=agent, wait=call.queue_wait_seconds)
    from telephony.gateway import get_gateway

    transaction.on_commit(
        lambda: get_gateway().connect_to_agent(call_sid=call.sid, offer_id=offer.pk)
    )
    return call


def _end_connected(call: Call, at: datetime, *, by: str, actor: Person | None = None) -> None:
    """Talk ends: the call enters wrap-up and so does its agent. Caller holds the call lock."""
    call.phase = CallPhase.WRAP_UP
    call.ended_at = at
    call.talk_seconds = max(0.0, (at - call.answered_at).total_seconds() - call.hold_seconds)
    call.save()
    _event(call, "ended", at, actor=actor, by=by)
    status = agent_status_lock(person_id=call.agent_id)
    if status.state == AgentState.ON_CALL:
        agent_transition(status=status, to_state=AgentState.WRAP_UP, at=at)
        status.wrapup_deadline = at + timedelta(seconds=call.queue.wrapup_seconds)
        status.save(update_fields=["wrapup_deadline"])


def _abandon(call: Call, at: datetime) -> None:
    """The caller left before an agent answered. Caller holds the call lock."""
    was_offered = call.phase == CallPhase.OFFERED
    call.phase = CallPhase.ABANDONED
    call.ended_at = at
    call.queue_wait_seconds = (at - call.enqueued_at).total_seconds()
    call.save()
    _event(call, "abandoned", at, wait=call.queue_wait_seconds)
    if was_offered:
        for offer in Offer.objects.select_for_update().filter(
            call=call, status=OfferStatus.PENDING
        ):
            offer.status = OfferStatus.CANCELLED
            offer.decided_at = at
            offer.save(update_fields=["status", "decided_at"])
            status = agent_status_lock(person_id=offer.agent_id)
            if status.state == AgentState.RESERVED:
                agent_transition(status=status, to_state=AgentState.AVAILABLE, at=at)
                # Not their fault: keep their place in the longest-idle order.
                status.available_since = offer.agent_idle_since or status.available_since
                status.save(update_fields=["available_since"])


@transaction.atomic
def call_hangup(*, agent: Person, call_id: int, at: datetime | None = None) -> Call:
    """The agent hangs up: the provider is told to end the call; wrap-up starts now."""
    at = at or timezone.now()
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("queue")
        .filter(pk=call_id)
        .first()
    )
    if call is None or call.agent_id != agent.pk:
        raise PermissionDenied
    if call.phase != CallPhase.CONNECTED:
        return call  # already ended (the caller hung up first): nothing to do
    _end_connected(call, at, by="agent", actor=agent)
    from telephony.gateway import get_gateway

    transaction.on_commit(lambda: get_gateway().hangup(call_sid=call.sid))
    return call


def call_status_update(
    *,
    sid: str,
    status: str,
    sequence_number: int | None,
    duration: int | None = None,
    at: datetime | None = None,
) -> Call | None:
    """A status callback. Idempotent per CallSid + status + SequenceNumber; callbacks may
    arrive out of order, so a terminal status never regresses and an older sequence number
    never overwrites a newer one."""
    at = at or timezone.now()
    if status not in TWILIO_STATUSES:
        raise ValidationError(_("Unknown CallStatus."))
    key = f"{sid}:status:{status}:{sequence_number}"
    with transaction.atomic():
        call = call_for_sid(sid, lock=True)
        if call is None:
            return None
        if _dedupe_seen(key):
            return call
        _event(call, "status", at, dedupe_key=key, status=status, sequence=sequence_number)
        terminal = status in TERMINAL_TWILIO_STATUSES
        if call.twilio_status in TERMINAL_TWILIO_STATUSES:
            if duration is not None and call.twilio_duration_seconds is None:
                call.twilio_duration_seconds = duration
                call.save(update_fields=["twilio_duration_seconds", "updated_at"])
            return call
        seq = sequence_number if sequence_number is not None else call.last_sequence_number + 1
        if not terminal and seq <= call.last_sequence_number:
            return call
        call.twilio_status = status
        call.last_sequence_number = max(seq, call.last_sequence_number)
        if duration is not None:
            call.twilio_duration_seconds = duration
        call.save(
            update_fields=[
                "twilio_status",
                "last_sequence_number",
                "twilio_duration_seconds",
                "updated_at",
            ]
        )
        if terminal:
            if call.phase in {CallPhase.QUEUED, CallPhase.OFFERED}:
                _abandon(call, at)
            elif call.phase == CallPhase.CONNECTED:
                _end_connected(call, at, by="caller")
    return call


@transaction.atomic
def call_left_queue(*, sid: str, result: str, at: datetime | None = None) -> Call | None:
    """Enqueue action. `hangup` while waiting is an abandon; `redirected` (we bridged the
    caller to an agent) is not. Replays change nothing; the status callback may come first."""
    at = at or timezone.now()
    call = call_for_sid(sid, lock=True)
    if call is None:
        return None
    key = f"{sid}:queue-result:{result}"
    if _dedupe_seen(key):
        return call
    _event(call, "queue_result", at, dedupe_key=key, result=result)
    if result == "hangup" and call.phase in {CallPhase.QUEUED, CallPhase.OFFERED}:
        _abandon(call, at)
    return call


@transaction.atomic
def call_recording_update(
    *, sid: str, recording_sid: str, url: str, status: str, duration: int | None
) -> Call | None:
    """Recording callback: attach the recording to its call. Replays change nothing."""
    call = call_for_sid(sid, lock=True)
    if call is None:
        return None
    key = f"{sid}:recording:{recording_sid}:{status}"
    if _dedupe_seen(key):
        return call
    _event(
        call, "recording", timezone.now(), dedupe_key=key, status=status, recording=recording_sid
    )
    if call.recording_status == "completed" and status != "completed":
        return call  # never regress a finished recording
    call.recording_sid = recording_sid
    call.recording_url = url
    call.recording_status = status
    call.recording_duration_seconds = duration
    call.save()
    return call


# --- Wrap-up (후처리) --------------------------------------------------------------------


@transaction.atomic
def wrapup_submit(
    *,
    agent: Person,
    call_id: int,
    disposition_id: int,
    note: str,
    ticket_id: int | None = None,
    subject: str = "",
    resolve: bool = True,
    at: datetime | None = None,
) -> Call:
    """After-call work is done: the note goes onto a new or existing ticket, the call is
    handled, and the agent moves to the state they asked for (AVAILABLE by default)."""
    from tickets.services import ticket_record_call

    at = at or timezone.now()
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("queue", "customer")
        .filter(pk=call_id)
        .first()
    )
    if call is None or call.agent_id != agent.pk:
        raise PermissionDenied
    if call.wrapup_submitted_at is not None:
        raise ValidationError(_("This wrap-up was already submitted."))
    if call.phase not in {CallPhase.WRAP_UP, CallPhase.COMPLETED}:
        raise ValidationError(_("Hang up before wrapping up."))
    disposition = call.department.dispositions.filter(pk=disposition_id).first()
    if disposition is None:
        raise ValidationError(_("Choose a disposition of this department."))
    ticket = ticket_record_call(
        call=call,
        agent=agent,
        note=note,
        ticket_id=ticket_id,
        subject=subject,
        resolve=resolve and disposition.resolves,
        at=at,
    )
    call.ticket = ticket
    call.disposition = disposition
    call.wrapup_submitted_at = at
    in_wrapup = call.phase == CallPhase.WRAP_UP
    if in_wrapup:
        _complete(call, at)
    call.save()
    _event(call, "wrapped_up", at, actor=agent, disposition=disposition.code, ticket=ticket.pk)
    if in_wrapup:
        status = agent_status_lock(person_id=agent.pk)
        if status.state == AgentState.WRAP_UP:
            agent_finish_work(status=status, at=at)
        _after_work_done()
    return call


def _complete(call: Call, at: datetime) -> None:
    call.phase = CallPhase.COMPLETED
    call.wrapup_ended_at = at
    call.acw_seconds = max(0.0, (at - call.ended_at).total_seconds())


def _after_work_done() -> None:
    from kpi.tasks import kpi_fill_soon
    from telephony.tasks import acd_route_soon

    transaction.on_commit(acd_route_soon)
    transaction.on_commit(kpi_fill_soon)


# --- Deadlines ----------------------------------------------------------------------------


def wrapups_expire_due(*, at: datetime | None = None) -> int:
    """Wrap-up time is up: the call is handled and the agent moves on. The agent can still
    submit the wrap-up form afterwards, so nothing they typed is lost."""
    at = at or timezone.now()
    count = 0
    due = AgentStatus.objects.filter(state=AgentState.WRAP_UP, wrapup_deadline__lt=at)
    for person_id in due.values_list("person_id", flat=True):
        with transaction.atomic():
            status = agent_status_lock(person_id=person_id)
            if (
                status.state != AgentState.WRAP_UP
                or not status.wrapup_deadline
                or status.wrapup_deadline >= at
            ):
                continue
            for call in Call.objects.select_for_update().filter(
                agent_id=person_id, phase=CallPhase.WRAP_UP
            ):
                _complete(call, status.wrapup_deadline)
                call.save()
                _event(call, "wrapup_timed_out", at)
            agent_finish_work(status=status, at=at)
            _after_work_done()
            count += 1
    return count
