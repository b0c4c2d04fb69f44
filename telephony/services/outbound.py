"""Calls Sangdam places: click-to-call follow-ups and the leg that dials a callback.

Both bridge the customer's leg to the agent through the ordinary connect contract
(`/telephony/voice/connect/?offer=N`): the customer answers, Twilio fetches the connect
TwiML, and the leg is bridged to the offer's agent.

Why a placeholder sid: the provider's sid only exists once the REST request returns, and
that request must not run inside the transaction (a rollback would leave a real phone
ringing with no row, and a slow provider would hold the agent's lock). So the call row,
its accepted offer and the agent's ON_CALL commit first with a sid that can never collide
with Twilio's (`pending…`); the REST request runs in `transaction.on_commit`, and
`call_dialled` writes the real sid. Whatever goes wrong afterwards leaves a row that says so:
a refused request marks the call FAILED (`call_dial_failed`), and a dial that never got a
sid or a final status is failed by the periodic sweep (`dials_expire_stuck`), so no agent
is left ON_CALL and no call row is orphaned.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import AgentState, Person
from agents.roles import can
from agents.services.states import (
    agent_finish_work,
    agent_status_ensure,
    agent_status_lock,
    agent_transition,
)
from telephony.models import (
    TERMINAL_TWILIO_STATUSES,
    Call,
    CallDirection,
    CallEvent,
    CallPhase,
    Offer,
    OfferStatus,
    Queue,
)
from telephony.services.common import _event
from tickets.selectors import customer_get_for, ticket_get_for

logger = logging.getLogger(__name__)

PENDING_SID_PREFIX = "pending"
# Ring time Twilio gives the customer before reporting no-answer.
DIAL_TIMEOUT_SECONDS = 30
# A dial with no sid or no final status after this long was lost on the way.
DIAL_STUCK_SECONDS = 120
# Where an agent may start a follow-up call from: not while another call is theirs.
CAN_DIAL_STATES = {AgentState.AVAILABLE, AgentState.NOT_READY}
CALLBACK_UNREACHED = "callback_unreached"


class AgentBusyError(ValidationError):
    """The agent is on, offered or wrapping up a call: no second call."""


def placeholder_sid() -> str:
    # 7 + 26 = 33 characters (sid holds 34); Twilio's call sids start with "CA".
    return PENDING_SID_PREFIX + secrets.token_hex(13)


def is_placeholder_sid(sid: str) -> bool:
    return sid.startswith(PENDING_SID_PREFIX)


# --- Click-to-call ----------------------------------------------------------------------


def call_dial_out(
    *, agent: Person, customer_id: int, ticket_id: int | None = None, at: datetime | None = None
) -> Call:
    """The agent calls a customer back (a follow-up from the customer's or a ticket's page).

    Only agents and team leads dial, only customers (and tickets) their scope shows them
    (Http404 otherwise), and only while AVAILABLE or NOT_READY (AgentBusyError). The caller
    ID is the one of the agent's department queue. The agent is ON_CALL while it rings, as
    TaskRouter does; a NOT_READY agent returns to NOT_READY (same reason) after wrap-up.
    """
    at = at or timezone.now()
    if not can(agent, "take_calls") or not agent.team_id:
        raise PermissionDenied
    customer = customer_get_for(agent, customer_id)
    ticket = ticket_get_for(agent, ticket_id) if ticket_id is not None else None
    if ticket is not None and ticket.customer_id != customer.pk:
        raise ValidationError(_("That ticket belongs to another customer."))
    if not customer.phone:
        raise ValidationError(_("This customer has no phone number."))
    queue = (
        Queue.objects.select_related("department").filter(department_id=agent.department_id).first()
    )
    if queue is None:
        raise ValidationError(_("Your department has no queue to call from."))
    caller_id = queue.outbound_caller_id
    agent_status_ensure(person=agent, at=at)
    with transaction.atomic():
        status = agent_status_lock(person_id=agent.pk)
        if status.state not in CAN_DIAL_STATES:
            raise AgentBusyError(
                _("You can call out only when Available or Not ready, not while %(state)s.")
                % {"state": status.get_state_display()}
            )
        call = Call.objects.create(
            sid=placeholder_sid(),
            direction=CallDirection.OUTBOUND,
            phase=CallPhase.DIALING,
            from_number=caller_id,
            to_number=customer.phone,
            department=queue.department,
            queue=queue,
            customer=customer,
            ticket=ticket,
            agent=agent,
            team_id=agent.team_id,
            enqueued_at=at,
            twilio_status="queued",
        )
        # An accepted offer, so the connect contract bridges the customer to this agent.
        offer = Offer.objects.create(
            call=call,
            agent=agent,
            status=OfferStatus.ACCEPTED,
            offered_at=at,
            expires_at=at,
            decided_at=at,
        )
        if status.state == AgentState.NOT_READY and not status.requested_state:
            status.requested_state = AgentState.NOT_READY
            status.requested_reason = status.reason
            status.save(update_fields=["requested_state", "requested_reason"])
        agent_transition(status=status, to_state=AgentState.ON_CALL, at=at)
        _event(
            call,
            "dial_out",
            at,
            actor=agent,
            to=customer.phone,
            caller_id=caller_id,
            ticket=ticket.pk if ticket else None,
        )
        call_id, offer_id = call.pk, offer.pk
        transaction.on_commit(lambda: _place(call_id=call_id, offer_id=offer_id))
    return call


def _place(*, call_id: int, offer_id: int) -> None:
    from telephony.gateway import get_gateway

    try:
        get_gateway().dial_out(call_id=call_id, offer_id=offer_id)
    except Exception:
        # The provider refused or could not be reached: say so on the row, free the agent.
        logger.exception("outbound: placing call %s failed", call_id)
        call_dial_failed(call_id=call_id, reason="provider_error")


@transaction.atomic
def call_dialled(*, call_id: int, sid: str, at: datetime | None = None) -> Call | None:
    """The provider accepted the dial-out and named its call: store the sid. Idempotent.
    If the call was already given up meanwhile, the provider's call is hung up."""
    at = at or timezone.now()
    call = Call.objects.select_for_update().filter(pk=call_id).first()
    if call is None or call.sid == sid:
        return call
    if not is_placeholder_sid(call.sid):
        logger.warning("outbound: call %s already has sid %s, not %s", call_id, call.sid, sid)
        return call
    call.sid = sid
    call.save(update_fields=["sid", "updated_at"])
    _event(call, "dialled", at, dedupe_key=f"{sid}:dialled", sid=sid)
    if call.phase != CallPhase.DIALING:
        _hang_up_later(sid)
    return call


@transaction.atomic
def call_callback_dialled(*, call_id: int, sid: str, at: datetime | None = None) -> Call | None:
    """The provider placed the callback's leg to the customer: store its sid. Idempotent.
    If the agent already hung up, the new leg is hung up too."""
    at = at or timezone.now()
    call = Call.objects.select_for_update().filter(pk=call_id).first()
    if call is None or call.callback_sid == sid:
        return call
    if call.callback_sid:
        logger.warning(
            "callback: call %s already has leg %s, not %s", call_id, call.callback_sid, sid
        )
        return call
    call.callback_sid = sid
    call.save(update_fields=["callback_sid", "updated_at"])
    _event(call, "callback_dialled", at, dedupe_key=f"{sid}:callback-dialled", sid=sid)
    if call.phase != CallPhase.CONNECTED:
        _hang_up_later(sid)
    return call


def _hang_up_later(sid: str) -> None:
    from telephony.gateway import get_gateway

    transaction.on_commit(lambda: get_gateway().hangup(call_sid=sid))


@transaction.atomic
def call_dial_failed(*, call_id: int, reason: str, at: datetime | None = None) -> Call | None:
    """A dial never reached the network (refused by the provider, or lost). A follow-up call
    becomes FAILED and its agent goes back to work at once (there is nothing to wrap up); a
    callback's leg ends the call as "callback not reached", with wrap-up to note it."""
    at = at or timezone.now()
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("queue")
        .filter(pk=call_id)
        .first()
    )
    if call is None:
        return None
    if call.direction == CallDirection.OUTBOUND:
        if call.phase != CallPhase.DIALING:
            return call
        call.phase = CallPhase.FAILED
        call.ended_at = at
        call.queue_exit = reason[:20]
        call.save()
        _event(call, "dial_failed", at, reason=reason)
        status = agent_status_lock(person_id=call.agent_id)
        if status.state == AgentState.ON_CALL:
            agent_finish_work(status=status, at=at)
        return call
    if call.is_callback and call.phase == CallPhase.CONNECTED:
        _callback_unreached(call, at, status=reason)
    return call


# --- Status callbacks of the legs Sangdam placed ----------------------------------------
# call_status_update (calls.py) does the idempotency and ordering bookkeeping and hands
# over here. Precondition for all three: the caller holds the call's row lock.


def dial_answered(call: Call, *, at: datetime) -> None:
    """The customer picked up the follow-up call: talk starts."""
    call.phase = CallPhase.CONNECTED
    call.answered_at = at
    call.save()
    _event(call, "outbound_answered", at)


def dial_ended(call: Call, *, status: str, duration: int | None, at: datetime) -> None:
    """A final status while still dialling. `completed` means it was answered (the
    in-progress callback is late or lost): talk happened and ends now. Anything else
    (busy, no-answer, failed, canceled) means the customer was not reached: the attempt
    goes to wrap-up so the agent can note it, marked with the provider's status."""
    from telephony.services.calls import _end_connected

    if status == "completed":
        dial_answered(call, at=at - timedelta(seconds=duration or 0))
        _end_connected(call, at, by="customer")
        return
    call.queue_exit = status
    call.talk_seconds = 0.0
    _wrap_up_unreached(call, at, kind="outbound_unreached", status=status)


def _wrap_up_unreached(call: Call, at: datetime, *, kind: str, status: str) -> None:
    call.phase = CallPhase.WRAP_UP
    call.ended_at = at
    call.save()
    _event(call, kind, at, status=status)
    agent = agent_status_lock(person_id=call.agent_id)
    if agent.state == AgentState.ON_CALL:
        agent_transition(status=agent, to_state=AgentState.WRAP_UP, at=at)
        agent.wrapup_deadline = at + timedelta(seconds=call.queue.wrapup_seconds)
        agent.save(update_fields=["wrapup_deadline"])


def callback_leg_status(call: Call, *, status: str, at: datetime) -> None:
    """A status of the callback's leg. The inbound leg ended long ago, so its twilio_status
    is left alone; the leg's own final status ends the connected call: `completed` is a
    normal end of talk, anything else means the callback did not reach the caller."""
    from telephony.services.calls import _end_connected

    if status == "in-progress":
        _event(call, "callback_answered", at)
        return
    if status not in TERMINAL_TWILIO_STATUSES or call.phase != CallPhase.CONNECTED:
        return
    if status == "completed":
        _end_connected(call, at, by="caller")
    else:
        _callback_unreached(call, at, status=status)


def _callback_unreached(call: Call, at: datetime, *, status: str) -> None:
    call.queue_exit = CALLBACK_UNREACHED
    call.talk_seconds = 0.0
    _wrap_up_unreached(call, at, kind="callback_unreached", status=status)


# --- Deadlines ----------------------------------------------------------------------------


def dials_expire_stuck(*, at: datetime | None = None) -> int:
    """Swept periodically: a follow-up still dialling, or a callback whose leg was never
    placed, DIAL_STUCK_SECONDS after it started lost its provider request or its callbacks.
    Fail it, so the agent is not held ON_CALL by a call that is not ringing anywhere."""
    at = at or timezone.now()
    cutoff = at - timedelta(seconds=DIAL_STUCK_SECONDS)
    # (Unordered: the calls' default order would lead SQLite through every call by date
    # instead of the live-phase indexes call_dialing and call_connected.)
    stuck = list(
        Call.objects.filter(
            direction=CallDirection.OUTBOUND, phase=CallPhase.DIALING, enqueued_at__lt=cutoff
        )
        .order_by()
        .values_list("id", flat=True)
    )
    stuck += (
        Call.objects.filter(
            phase=CallPhase.CONNECTED,
            callback_requested_at__isnull=False,
            callback_sid="",
            answered_at__lt=cutoff,
        )
        .order_by()
        .values_list("id", flat=True)
    )
    for call_id in stuck:
        # Twilio fetches the connect TwiML only once the customer answers: a "bridging"
        # event means the call is up and only its in-progress callback was lost.
        bridged = CallEvent.objects.filter(call_id=call_id, kind="bridging").order_by("at").first()
        if bridged is not None:
            with transaction.atomic():
                call = Call.objects.select_for_update(of=("self",)).filter(pk=call_id).first()
                if call is not None and call.phase == CallPhase.DIALING:
                    dial_answered(call, at=bridged.at)
            continue
        call_dial_failed(call_id=call_id, reason="lost", at=at)
    return len(stuck)


def dial_cancel(call: Call, *, at: datetime) -> None:
    """The agent hangs up a follow-up call still ringing: the attempt ends now as not
    reached (wrap-up), and the provider's call is cancelled once it has a sid (if it has
    none yet, call_dialled cancels it when the sid arrives)."""
    dial_ended(call, status="canceled", duration=None, at=at)
    if not is_placeholder_sid(call.sid):
        _hang_up_later(call.sid)
