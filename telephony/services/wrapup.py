"""Wrap-up (후처리): the agent's notepad during the call, the submitted wrap-up, and the
wrap-up deadline."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import AgentState, AgentStatus, Person
from agents.services.states import agent_finish_work, agent_status_lock
from callcenter.events import CallHandled, emit
from callcenter.pii import pii_guard
from telephony.models import Call, CallPhase
from telephony.selectors import call_own_numbers
from telephony.services.common import _event
from tickets.services.pii_detections import pii_detections_record
from tickets.services.wrapups import ticket_record_call

# --- Wrap-up (후처리) --------------------------------------------------------------------


@transaction.atomic
def call_notepad_save(
    *,
    agent: Person,
    call_id: int,
    note: str,
    disposition_id: int | None = None,
    pii_confirmed: bool = True,
) -> Call:
    """The agent's notes while talking (상담 메모) and the disposition they lean to, kept
    on the call for its wrap-up. Personal data is masked before the draft is stored, as
    in every note; the caller's numbers on record are not a leak. The notepad is saved as
    the agent types, with no second submit: masking is its confirmed default
    (`pii_confirmed`). Nothing is logged for QA here: the draft is saved again and again,
    and the wrap-up is what counts."""
    call = (
        Call.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(pk=call_id)
        .first()
    )
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
    guarded = pii_guard({"note": note}, confirmed=pii_confirmed, own_phone=call_own_numbers(call))
    call.notepad = guarded.texts["note"]
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
    pii_confirmed: bool = False,
    at: datetime | None = None,
) -> Call:
    """After-call work is done: the note goes onto a new or existing ticket, the call is
    handled, and the agent moves to the state they asked for (AVAILABLE by default).
    `note` and `subject` are as the agent wrote them: the PII guard masks what it finds
    (raising PiiBlocked unless `pii_confirmed`) and each finding is logged for QA, without
    the identifier itself."""
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
    guarded = pii_guard(
        {"note": note, "subject": subject},
        confirmed=pii_confirmed,
        own_phone=call_own_numbers(call),
    )
    ticket = ticket_record_call(
        call=call,
        agent=agent,
        note=guarded.texts["note"],
        ticket_id=ticket_id,
        subject=guarded.texts["subject"],
        resolve=resolve and disposition.resolves,
        at=at,
    )
    call.ticket = ticket
    call.disposition = disposition
    call.wrapup_submitted_at = at
    pii_detections_record(agent=agent, call=call, ticket=ticket, found=guarded.found(), at=at)
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
