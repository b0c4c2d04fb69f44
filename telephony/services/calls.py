"""Every write about one connected call: answering, a bridge that failed, hanging up, and
the provider's callbacks about it (status, the queue's result, recordings)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import AgentState, Person
from agents.services.states import agent_finish_work, agent_status_lock, agent_transition
from telephony.models import (
    TERMINAL_TWILIO_STATUSES,
    TWILIO_STATUSES,
    Call,
    CallEvent,
    CallPhase,
    Offer,
    OfferStatus,
)
from telephony.services.common import (
    LIVE_PHASES,
    _dedupe_seen,
    _event,
    call_for_sid,
    logger,
)
from telephony.services.surveys import after_agent_hangup

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
        from telephony.services.transfers import consult_leave

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
