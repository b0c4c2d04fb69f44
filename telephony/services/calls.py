"""Every write about one call: receiving it, answering, ending, wrap-up (후처리)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import AgentState, AgentStatus, Person
from agents.services import agent_finish_work, agent_status_lock, agent_transition
from callcenter.events import CallHandled, emit
from callcenter.pii import pii_redact
from telephony.models import (
    TERMINAL_TWILIO_STATUSES,
    TWILIO_STATUSES,
    Call,
    CallEvent,
    CallPhase,
    FullAction,
    Offer,
    OfferStatus,
    Queue,
)
from telephony.selectors import number_route, queue_full_and_caller
from telephony.services.common import (
    LIVE_PHASES,
    QueueFullError,
    UnknownNumberError,
    _dedupe_seen,
    _event,
    call_for_sid,
    logger,
)
from telephony.services.surveys import after_agent_hangup

# --- Receiving ---------------------------------------------------------------------------


def call_priority(queue: Queue, customer) -> int:
    """VIPs and returning callers with an open ticket wait ahead of first-time callers."""
    if customer is None:
        return 0
    from tickets.selectors import OPEN_TICKET_STATUSES_EXCLUDED

    priority = queue.vip_priority if customer.is_vip else 0
    has_open = getattr(customer, "has_open_ticket", None)
    if has_open is None:
        has_open = customer.tickets.exclude(status__in=OPEN_TICKET_STATUSES_EXCLUDED).exists()
    if has_open:
        priority += queue.open_ticket_priority
    return priority


def call_receive(
    *,
    sid: str,
    from_number: str,
    to_number: str,
    queue_id: int | None = None,
    language: str = "ko",
    allow_full: bool = False,
    at: datetime | None = None,
) -> Call:
    """An inbound call arrives: a Call row and a place in a queue, the one the IVR chose
    (`queue_id`) or the one of the dialled department's number.

    Idempotent per CallSid: Twilio's retry of the same webhook returns the existing call.
    Raises UnknownNumberError, or QueueFullError when the queue is at its maximum size
    (unless `allow_full`: a callback booked instead of a place on the line).
    """
    from tickets.services.customers import phone_normalize

    at = at or timezone.now()
    called = phone_normalize(to_number) or to_number
    if queue_id is not None:
        queue = Queue.objects.select_related("department").filter(pk=queue_id).first()
    else:
        _menu, queue = number_route(called)
    if queue is None:
        raise UnknownNumberError(to_number)
    caller = phone_normalize(from_number) or from_number
    full, match = queue_full_and_caller(queue, caller)  # one statement
    if full and not allow_full:
        if Call.objects.filter(sid=sid).exists():
            return call_for_sid(sid)  # a retry of a call already in line: not a new caller
        raise QueueFullError(queue)
    try:
        with transaction.atomic():
            call = Call.objects.create(
                sid=sid,
                from_number=caller,
                to_number=called,
                department_id=queue.department_id,
                queue=queue,
                customer_id=match.customer_id if match else None,
                priority=call_priority(queue, match),
                language=language if language in {"ko", "en"} else "ko",
                enqueued_at=at,
                twilio_status="ringing",
            )
            _event(call, "enqueued", at, dedupe_key=f"{sid}:incoming", queue=queue.name)
    except IntegrityError:
        # Twilio's retry of this webhook (or a concurrent copy of it): (sid, segment 0) is
        # unique, so the call already made is the answer.
        return call_for_sid(sid)
    from telephony.tasks import acd_route_soon

    transaction.on_commit(lambda: acd_route_soon(queue_id=queue.pk))
    return call


@transaction.atomic
def call_receive_as_callback(
    *,
    sid: str,
    from_number: str,
    to_number: str,
    queue_id: int,
    language: str = "ko",
    reason: str = "full",
    at: datetime | None = None,
) -> Call:
    """A caller who is to be called back instead of holding (the queue is full, the center
    closed, or they chose it in the voice menu): the call joins the queue, even a full one,
    and its callback is booked in the same transaction, so the router (asked after the
    commit) never offers it as a caller still on the line. Raises ValidationError if a
    replay finds the call moved on."""
    call_receive(
        sid=sid,
        from_number=from_number,
        to_number=to_number,
        queue_id=queue_id,
        language=language,
        allow_full=True,
        at=at,
    )
    return call_request_callback(sid=sid, reason=reason, at=at)


@transaction.atomic
def call_request_callback(
    *, sid: str, number: str = "", reason: str = "callback", at: datetime | None = None
) -> Call:
    """The caller asks to be called back instead of holding. The call keeps its place:
    the row stays queued with its original enqueued_at, so it is offered in turn, and the
    caller's hang-up that follows is not an abandon. Idempotent."""
    from tickets.services.customers import phone_normalize

    at = at or timezone.now()
    call = call_for_sid(sid, lock=True)
    if call is None:
        raise ValidationError(_("No such call."))
    if call.callback_requested_at is not None:
        return call
    if call.phase not in {CallPhase.QUEUED, CallPhase.OFFERED}:
        raise ValidationError(_("This call is no longer waiting."))
    call.callback_requested_at = at
    call.callback_number = phone_normalize(number) or call.from_number
    call.queue_exit = reason
    call.save()
    _event(call, "callback_requested", at, number=call.callback_number, reason=reason)
    return call


def _over_max_wait(call: Call, at: datetime) -> bool:
    limit = call.queue.max_wait_seconds
    return bool(limit) and (at - call.enqueued_at).total_seconds() >= limit


def call_queue_timeout(
    *, sid: str, at: datetime | None = None, call: Call | None = None
) -> Call | None:
    """If the caller has waited the queue's maximum, they leave the queue for a callback
    that keeps their place, or for voicemail (the queue's full_action). Returns None when
    they are under the maximum or not waiting any more (e.g. ringing at an agent). The
    waitUrl asks on every announcement, so the common "not yet" answer takes no lock
    (`call` is the row the caller already read)."""
    at = at or timezone.now()
    call = call or call_for_sid(sid)
    if call is None or not _over_max_wait(call, at):
        return None
    return _queue_timeout(sid=sid, at=at)


@transaction.atomic
def _queue_timeout(*, sid: str, at: datetime) -> Call | None:
    call = call_for_sid(sid, lock=True)
    if call is None or call.phase != CallPhase.QUEUED or call.is_callback:
        return None
    if not _over_max_wait(call, at):
        return None
    if call.queue.full_action == FullAction.CALLBACK:
        return call_request_callback(sid=sid, reason="max_wait", at=at)
    call.queue_exit = "max_wait"
    call.save(update_fields=["queue_exit", "updated_at"])
    _event(call, "max_wait", at, wait=(at - call.enqueued_at).total_seconds())
    return call


@transaction.atomic
def call_to_voicemail(*, sid: str, at: datetime | None = None) -> Call | None:
    """The caller left the queue to leave a message: the call ends without an agent and is
    not an abandon (the voicemail is its own record)."""
    at = at or timezone.now()
    call = call_for_sid(sid, lock=True)
    if call is None or call.phase not in {CallPhase.QUEUED, CallPhase.OFFERED}:
        return call
    _release_offer(call, at)
    call.phase = CallPhase.VOICEMAIL
    call.ended_at = at
    call.queue_wait_seconds = (at - call.enqueued_at).total_seconds()
    call.save()
    _event(call, "to_voicemail", at, reason=call.queue_exit or "choice")
    return call


# --- Agent actions on a call -------------------------------------------------------------


@transaction.atomic
def offer_accept(*, agent: Person, offer_id: int, at: datetime | None = None) -> Call:
    """The agent answers the offered call: the call is bridged to them and talk starts."""
    at = at or timezone.now()
    # Lock order everywhere: call → offer → agent status (PostgreSQL deadlocks otherwise,
    # e.g. against a hang-up releasing the same offer).
    call_id = Offer.objects.filter(pk=offer_id).values_list("call_id", flat=True).first()
    if call_id is None:
        raise PermissionDenied
    call = Call.objects.select_for_update(of=("self",)).get(pk=call_id)
    offer = Offer.objects.select_for_update(of=("self",)).filter(pk=offer_id).first()
    if offer is None or offer.agent_id != agent.pk:
        raise PermissionDenied
    status = agent_status_lock(person_id=agent.pk)
    if offer.status != OfferStatus.PENDING or offer.expires_at < at:
        raise ValidationError(_("This call is no longer offered to you."))
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
    today = timezone.localdate(at)
    status.calls_today = status.calls_today + 1 if status.calls_today_date == today else 1
    status.calls_today_date = today
    status.save(update_fields=["calls_today", "calls_today_date"])
    _event(call, "answered", at, actor=agent, wait=call.queue_wait_seconds)
    from telephony.gateway import get_gateway

    if call.is_callback:
        # The caller hung up long ago: Sangdam now dials them and bridges them to the agent.
        transaction.on_commit(
            lambda: get_gateway().dial_callback(call_id=call.pk, offer_id=offer.pk)
        )
    else:
        from telephony.tasks import connect_to_agent_now

        transaction.on_commit(lambda: connect_to_agent_now(call_sid=call.sid, offer_id=offer.pk))
    return call


@transaction.atomic
def call_bridge_failed(*, offer_id: int, at: datetime | None = None) -> Call | None:
    """The provider would not bridge an accepted call to its agent (the redirect failed
    after its retries). If the caller's leg never fetched the connect TwiML, the call goes
    back to the queue keeping its original wait, and the agent back to work; otherwise
    the bridge did happen and nothing changes."""
    at = at or timezone.now()
    call_id = Offer.objects.filter(pk=offer_id).values_list("call_id", flat=True).first()
    if call_id is None:
        return None
    call = Call.objects.select_for_update(of=("self",)).select_related("queue").get(pk=call_id)
    offer = Offer.objects.select_for_update(of=("self",)).get(pk=offer_id)
    bridged = CallEvent.objects.filter(call=call, kind="bridging").exists()
    if call.phase != CallPhase.CONNECTED or call.agent_id != offer.agent_id or bridged:
        return call
    status = agent_status_lock(person_id=offer.agent_id)
    offer.status = OfferStatus.CANCELLED
    offer.save(update_fields=["status"])
    call.phase = CallPhase.QUEUED
    call.agent = None
    call.team = None
    call.answered_at = None
    call.queue_wait_seconds = None
    call.save()
    if status.state == AgentState.ON_CALL:
        agent_finish_work(status=status, at=at)
    _event(call, "bridge_failed", at, actor_id=offer.agent_id, offer=offer_id)
    from telephony.tasks import acd_route_soon

    transaction.on_commit(lambda: acd_route_soon(queue_id=call.queue_id))
    return call


def _end_connected(call: Call, at: datetime, *, by: str, actor: Person | None = None) -> None:
    """Talk ends: the call enters wrap-up and so does its agent. Caller holds the call lock."""
    if call.hold_started_at is not None:  # ended while on hold: the hold closes first
        call.hold_seconds += max(0.0, (at - call.hold_started_at).total_seconds())
        call.hold_started_at = None
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


def _release_offer(call: Call, at: datetime) -> None:
    """Cancel a pending offer of a call that left; the agent keeps their idle place."""
    for offer in Offer.objects.select_for_update().filter(call=call, status=OfferStatus.PENDING):
        offer.status = OfferStatus.CANCELLED
        offer.decided_at = at
        offer.save(update_fields=["status", "decided_at"])
        status = agent_status_lock(person_id=offer.agent_id)
        if status.state == AgentState.RESERVED:
            # Back to what they asked for while it rang (a break), else AVAILABLE.
            agent_finish_work(status=status, at=at)
            if status.state == AgentState.AVAILABLE:
                # Not their fault: keep their place in the longest-idle order.
                status.available_since = offer.agent_idle_since or status.available_since
                status.save(update_fields=["available_since"])


def _abandon(call: Call, at: datetime) -> None:
    """The caller left before an agent answered. Caller holds the call lock. A booked
    callback is not an abandon: the call keeps waiting without the caller on the line."""
    if call.is_callback:
        return
    _release_offer(call, at)
    call.phase = CallPhase.ABANDONED
    call.ended_at = at
    call.queue_wait_seconds = (at - call.enqueued_at).total_seconds()
    call.save()
    _event(call, "abandoned", at, wait=call.queue_wait_seconds)


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
    if call.phase == CallPhase.DIALING:  # the agent gives up a follow-up call still ringing
        from telephony.services.outbound import dial_cancel

        dial_cancel(call, at=at)
        return call
    if call.phase != CallPhase.CONNECTED:
        return call  # already ended (the caller hung up first): nothing to do
    if call.parent_id and call.parent.phase == CallPhase.CONNECTED:
        # A warm consult: hanging up leaves the consult, not the customer's call.
        from telephony.services.bridging import consult_leave

        return consult_leave(segment=call, agent=agent, at=at)
    _end_connected(call, at, by="agent", actor=agent)
    leg = call.callback_sid or call.sid  # a callback's caller is on the leg Sangdam dialled
    # The caller's leg ends, or goes to the post-call survey if they opted in (surveys.py).
    transaction.on_commit(lambda: after_agent_hangup(call, leg=leg))
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
        if call.callback_sid == sid and call.sid != sid:
            # The callback's leg to the caller: the inbound leg (long completed) keeps its
            # own twilio_status; the leg's final status ends the connected call.
            from telephony.services.outbound import callback_leg_status

            callback_leg_status(call, status=status, at=at)
            return call
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
            elif call.phase == CallPhase.DIALING:  # a follow-up call Sangdam placed
                from telephony.services.outbound import dial_ended

                dial_ended(call, status=status, duration=duration, at=at)
            _end_other_segments(call, at)
        elif status == "in-progress" and call.phase == CallPhase.DIALING:
            from telephony.services.outbound import dial_answered

            dial_answered(call, at=at)
    return call


def _end_other_segments(call: Call, at: datetime) -> None:
    """The caller's leg is over: so is every other live segment of it (during a warm
    consult the first agent's segment is still connected; a transfer may be waiting).
    call_for_sid locked them all."""
    others = (
        Call.objects.filter(sid=call.sid, phase__in=LIVE_PHASES)
        .exclude(pk=call.pk)
        .select_related("queue")
        .order_by("pk")
    )
    for other in others:
        if other.phase == CallPhase.CONNECTED:
            _end_connected(other, at, by="caller")
        else:
            _abandon(other, at)


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
    *,
    sid: str,
    recording_sid: str,
    url: str,
    status: str,
    duration: int | None,
    call_id: int | None = None,
    error_code: str = "",
) -> Call | None:
    """Recording callback: attach the recording to its call. Replays change nothing.
    A conference recording names its segment (`?call=<pk>`) and may carry no CallSid."""
    call = None
    if call_id is not None:
        call = Call.objects.select_for_update(of=("self",)).filter(pk=call_id).first()
        if call is not None and sid and sid not in {call.sid, call.callback_sid}:
            call = None  # the pk and the sid disagree: trust neither
    elif sid:
        call = call_for_sid(sid, lock=True)
    if call is None:
        return None
    sid = sid or call.sid
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
    # `absent`: Twilio heard no audio (16101/16102); the QA list flags these calls.
    call.recording_error_code = error_code
    call.save()
    if status == "absent":
        logger.warning("call %s: recording absent (error %s)", call.pk, error_code or "?")
    return call


# --- Wrap-up (후처리) --------------------------------------------------------------------


@transaction.atomic
def call_notepad_save(
    *,
    agent: Person,
    call_id: int,
    note: str,
    disposition_id: int | None = None,
    own_phone: Iterable[str] = (),
) -> Call:
    """The agent's notes while talking (상담 메모) and the disposition they lean to, kept
    on the call for its wrap-up. Personal data is masked before the draft is stored, as
    in every note; `own_phone` are the caller's numbers on record (not a leak)."""
    call = Call.objects.select_for_update(of=("self",)).filter(pk=call_id).first()
    if call is None or call.agent_id != agent.pk:
        raise PermissionDenied
    if call.wrapup_submitted_at is not None or call.phase not in {
        CallPhase.DIALING,
        CallPhase.CONNECTED,
        CallPhase.WRAP_UP,
    }:
        raise ValidationError(_("This call's wrap-up is already done."))
    disposition = None
    if disposition_id is not None:
        disposition = call.department.dispositions.filter(pk=disposition_id).first()
        if disposition is None:
            raise ValidationError(_("Choose a disposition of this department."))
    call.notepad = pii_redact(note, own_phone=own_phone)
    call.notepad_disposition = disposition
    call.save(update_fields=["notepad", "notepad_disposition"])
    return call


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
    pii_found: list[tuple[str, str, str]] | None = None,
    at: datetime | None = None,
) -> Call:
    """After-call work is done: the note goes onto a new or existing ticket, the call is
    handled, and the agent moves to the state they asked for (AVAILABLE by default).
    `pii_found` (field, kind, masked form) is what the PII guard masked in the note and
    subject: each is logged for QA, without the identifier itself."""
    from tickets.services.wrapups import ticket_record_call

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
    if pii_found:
        from tickets.services.pii_detections import pii_detections_record

        pii_detections_record(agent=agent, call=call, ticket=ticket, found=pii_found, at=at)
    in_wrapup = call.phase == CallPhase.WRAP_UP
    if in_wrapup:
        _complete(call, at)
    call.save()
    _event(call, "wrapped_up", at, actor=agent, disposition=disposition.code, ticket=ticket.pk)
    if in_wrapup:
        status = agent_status_lock(person_id=agent.pk)
        if status.state == AgentState.WRAP_UP:
            agent_finish_work(status=status, at=at)
        _after_work_done(agent_id=agent.pk)
    return call


def _complete(call: Call, at: datetime) -> None:
    call.phase = CallPhase.COMPLETED
    call.wrapup_ended_at = at
    call.acw_seconds = max(0.0, (at - call.ended_at).total_seconds())


def _after_work_done(*, agent_id: int) -> None:
    from telephony.tasks import acd_route_soon

    transaction.on_commit(acd_route_soon)
    emit(CallHandled(agent_id=agent_id))


# --- Deadlines ----------------------------------------------------------------------------


def wrapups_expire_due(*, at: datetime | None = None) -> int:
    """Wrap-up time is up: the call is handled and the agent moves on. The agent can still
    submit the wrap-up form afterwards, so nothing they typed is lost."""
    at = at or timezone.now()
    count = 0
    due = AgentStatus.objects.filter(state=AgentState.WRAP_UP, wrapup_deadline__lt=at)
    for person_id in due.values_list("person_id", flat=True):
        with transaction.atomic():
            # Lock order: calls before the agent's status (as wrapup_submit does).
            calls = list(
                Call.objects.select_for_update(of=("self",))
                .filter(agent_id=person_id, phase=CallPhase.WRAP_UP)
                .order_by("pk")
            )
            status = agent_status_lock(person_id=person_id)
            if (
                status.state != AgentState.WRAP_UP
                or not status.wrapup_deadline
                or status.wrapup_deadline >= at
            ):
                continue
            for call in calls:
                _complete(call, status.wrapup_deadline)
                call.save()
                _event(call, "wrapup_timed_out", at)
            agent_finish_work(status=status, at=at)
            _after_work_done(agent_id=person_id)
            count += 1
    return count
