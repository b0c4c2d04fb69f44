"""A call arrives: its row and place in a queue, a callback booked instead of holding, the
queue's maximum wait, and voicemail."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.phones import phone_normalize
from telephony.models import Call, CallPhase, FullAction, Queue
from telephony.selectors import number_route, queue_is_full
from telephony.services.calls import _release_offer
from telephony.services.common import QueueFullError, UnknownNumberError, _event, call_for_sid
from tickets.selectors import OPEN_TICKET_STATUSES_EXCLUDED, caller_match

# --- Receiving ---------------------------------------------------------------------------


def call_priority(queue: Queue, customer) -> int:
    """VIPs and returning callers with an open ticket wait ahead of first-time callers."""
    if customer is None:
        return 0
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
    at = at or timezone.now()
    called = phone_normalize(to_number) or to_number
    if queue_id is not None:
        queue = Queue.objects.select_related("department").filter(pk=queue_id).first()
    else:
        _menu, queue = number_route(called)
    if queue is None:
        raise UnknownNumberError(to_number)
    caller = phone_normalize(from_number) or from_number
    full, match = queue_is_full(queue), caller_match(caller)
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
