"""Every write to people and agent states goes through here."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import (
    AgentState,
    AgentStateInterval,
    AgentStatus,
    NotReadyReason,
    Person,
    Role,
    WorkingHours,
)
from callcenter.precompiled import PrecompiledBulkInsert, UpdateIn

BUSY_STATES = {AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP}
# States an agent may choose from the desktop; the others are set by the ACD.
SELECTABLE_STATES = {AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE}


def agent_status_ensure(*, person: Person, at: datetime | None = None) -> AgentStatus:
    """The person's status row, created OFFLINE (with its open interval) on first use."""
    at = at or timezone.now()
    status, created = AgentStatus.objects.get_or_create(
        person=person, defaults={"state": AgentState.OFFLINE, "since": at}
    )
    if created:
        AgentStateInterval.objects.create(person=person, state=AgentState.OFFLINE, started_at=at)
    return status


def agent_status_lock(*, person_id: int) -> AgentStatus:
    """Lock the status row for the rest of the transaction (no-op lock on SQLite, where
    IMMEDIATE transactions serialise writers instead)."""
    return (
        AgentStatus.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(person_id=person_id)
    )


def _transition_fields(to_state: str, reason: str, at: datetime) -> dict:
    """What a move to `to_state` writes on the status row: the one rule for every move."""
    fields = {"state": to_state, "reason": reason, "since": at}
    if to_state == AgentState.AVAILABLE:
        fields["available_since"] = at
    if to_state != AgentState.WRAP_UP:
        fields["wrapup_deadline"] = None
    return fields


def agent_transition(
    *, status: AgentStatus, to_state: str, reason: str = "", at: datetime | None = None
) -> AgentStatus:
    """Trusted core: move a locked status to a new state and record the interval.

    Precondition: the caller holds the row lock (agent_status_lock) inside a transaction.
    """
    at = at or timezone.now()
    if status.state == to_state and status.reason == reason:
        return status
    AgentStateInterval.objects.filter(person_id=status.person_id, ended_at__isnull=True).update(
        ended_at=at
    )
    AgentStateInterval.objects.create(
        person_id=status.person_id, state=to_state, reason=reason, started_at=at
    )
    for name, value in _transition_fields(to_state, reason, at).items():
        setattr(status, name, value)
    status.save()
    from telephony.tallies import tallies_agent_changed

    tallies_agent_changed(status.person_id)  # live tallies, refreshed after the commit
    return status


# The router's batch writes, compiled once (callcenter.precompiled): through the ORM their
# Python cost more than the statements.
_open_intervals = UpdateIn(
    lambda: AgentStateInterval.objects.filter(ended_at__isnull=True), "person_id"
)
_insert_intervals = PrecompiledBulkInsert(AgentStateInterval, ["person", "state", "started_at"])
_statuses = UpdateIn(AgentStatus.objects.all, "person_id")


def agents_transition_bulk(*, person_ids: list[int], to_state: str, at: datetime, **also) -> None:
    """agent_transition for many agents at once (the router pairs calls in batches):
    the same fields and intervals in a fixed number of statements. `also` are further
    status fields to set (e.g. last_offered_at).

    Precondition: every status is locked by the caller and none is already in `to_state`.
    """
    if not person_ids:
        return
    _open_intervals.run(person_ids, ended_at=at)
    _insert_intervals.insert([(i, to_state, at) for i in person_ids])
    _statuses.run(person_ids, **{**_transition_fields(to_state, "", at), **also})
    from telephony.tallies import tallies_agent_changed

    for person_id in person_ids:
        tallies_agent_changed(person_id)


def _validate_choice(state: str, reason: str) -> None:
    if state not in SELECTABLE_STATES:
        raise ValidationError(_("That state is set by the system, not chosen."))
    if state == AgentState.NOT_READY and reason not in NotReadyReason.values:
        raise ValidationError(_("Choose a reason for Not ready."))
    if state != AgentState.NOT_READY and reason:
        raise ValidationError(_("Only Not ready takes a reason."))


# Handling a call: the end of the last of these intervals is when the agent was last busy.
_CALL_WORK = (AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP)


def agent_idle_since(*, person: Person, at: datetime) -> datetime:
    """Where an agent who chooses Available (signing in, back from a break, after missing an
    offer) stands in the longest-idle order: idle since their last call work ended today,
    or, with none yet today, since their shift started (their working hours), else since
    the day began. Not since now: a newcomer would wait behind every colleague who has
    been taking calls all along. As in the ACDs that measure idle time from the last
    interaction (Genesys Cloud's longest idle), a break does not send an agent to the back
    of the line. After wrap-up the agent is idle from that moment (agent_transition)."""
    local = timezone.localtime(at)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    last_call_end = (
        AgentStateInterval.objects.filter(
            person=person, state__in=_CALL_WORK, ended_at__gte=day_start, ended_at__lte=at
        )
        .order_by("-ended_at")
        .values_list("ended_at", flat=True)
        .first()
    )
    if last_call_end is not None:
        return last_call_end
    shift = (
        WorkingHours.objects.filter(person=person, weekday=local.weekday())
        .values_list("starts", flat=True)
        .first()
    )
    if shift is not None:
        shift_start = datetime.combine(local.date(), shift, tzinfo=local.tzinfo)
        return min(shift_start, at)
    return day_start


@transaction.atomic
def agent_set_state(
    *, person: Person, state: str, reason: str = "", at: datetime | None = None
) -> AgentStatus:
    """The agent chooses a state. While busy with a call the choice is kept as the requested
    state and applied when wrap-up ends; it is never lost or overwritten by AVAILABLE."""
    _validate_choice(state, reason)
    agent_status_ensure(person=person, at=at)
    status = agent_status_lock(person_id=person.pk)
    if status.state in BUSY_STATES:
        status.requested_state = state
        status.requested_reason = reason
        status.save(update_fields=["requested_state", "requested_reason"])
        return status
    status.requested_state = ""
    status.requested_reason = ""
    returning = state == AgentState.AVAILABLE and status.state != AgentState.AVAILABLE
    agent_transition(status=status, to_state=state, reason=reason, at=at)
    if returning:
        status.available_since = agent_idle_since(person=person, at=status.since)
        status.save(update_fields=["available_since"])
    if state == AgentState.AVAILABLE:
        from telephony.tasks import acd_route_soon

        transaction.on_commit(acd_route_soon)
    return status


def agent_finish_work(*, status: AgentStatus, at: datetime | None = None) -> AgentStatus:
    """End of wrap-up: apply the requested state, else AVAILABLE. Caller holds the lock."""
    to_state = status.requested_state or AgentState.AVAILABLE
    reason = status.requested_reason if to_state == AgentState.NOT_READY else ""
    status.requested_state = ""
    status.requested_reason = ""
    return agent_transition(status=status, to_state=to_state, reason=reason, at=at)


# --- approvals, breaks and working hours (the 실장's board) ---------------------------------

DECIDING_ROLES = {"team_lead", "manager", "director"}


def approval_request_create(
    *,
    requester: Person,
    kind: str,
    reason: str,
    ticket=None,
    amount: int | None = None,
    break_start: datetime | None = None,
    break_minutes: int | None = None,
    pii_found=(),
    at: datetime | None = None,
):
    """An agent asks their 실장: an escalation, a refund or exception, a break. `reason` has
    been through the PII guard; what it masked is logged for QA."""
    from agents.models import ApprovalRequest, RequestKind

    at = at or timezone.now()
    reason = (reason or "").strip()
    if kind not in RequestKind.values:
        raise ValidationError(_("Unknown kind of request."))
    if not reason:
        raise ValidationError(_("Give a reason."))
    if requester.team_id is None:
        raise ValidationError(_("Only people in a team can ask their team lead."))
    if requester.role != Role.AGENT:
        # A team lead would be asking themselves; leads and above decide requests.
        raise ValidationError(_("Only agents send requests to their team lead."))
    if kind == RequestKind.BREAK:
        if break_start is None or not break_minutes or not 5 <= break_minutes <= 120:
            raise ValidationError(_("A break needs a start and 5 to 120 minutes."))
    if kind == RequestKind.REFUND and not amount:
        raise ValidationError(_("A refund needs an amount."))
    if pii_found:
        from tickets.services import pii_detections_record

        pii_detections_record(
            agent=requester, call=None, ticket=ticket, found=list(pii_found), at=at
        )
    return ApprovalRequest.objects.create(
        kind=kind,
        requester=requester,
        team_id=requester.team_id,
        ticket=ticket,
        reason=reason[:2000],
        amount=amount,
        break_start=break_start,
        break_minutes=break_minutes,
        created_at=at,
    )


@transaction.atomic
def approval_request_decide(
    *,
    decider: Person,
    request_id: int,
    approve: bool,
    note: str = "",
    pii_found=(),
    at: datetime | None = None,
):
    """The 실장 (or someone above them) approves or denies. An approved escalation hands the
    ticket to the decider; an approved break becomes a scheduled break. `note` has been
    through the PII guard (see DecisionForm)."""
    from agents.models import ApprovalRequest, BreakSlot, RequestKind, RequestStatus
    from agents.scoping import approval_request_get_for

    at = at or timezone.now()
    request = approval_request_get_for(decider, request_id)
    if not (decider.is_superuser or decider.role in DECIDING_ROLES):
        raise ValidationError(_("Only a team lead or a manager decides requests."))
    if request.requester_id == decider.pk:
        raise ValidationError(_("You cannot decide your own request."))
    request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != RequestStatus.PENDING:
        raise ValidationError(_("This request was already decided."))
    request.status = RequestStatus.APPROVED if approve else RequestStatus.DENIED
    request.decided_by = decider
    request.decided_at = at
    request.decision_note = (note or "").strip()[:300]
    request.save()
    if pii_found:
        from tickets.services import pii_detections_record

        pii_detections_record(
            agent=decider, call=None, ticket=request.ticket, found=list(pii_found), at=at
        )
    if request.kind == RequestKind.ESCALATION and request.ticket_id:
        from tickets.services import ticket_escalation_decided

        ticket_escalation_decided(request=request, lead=decider, approved=approve, at=at)
    if request.kind == RequestKind.BREAK and approve:
        BreakSlot.objects.create(
            person_id=request.requester_id,
            starts_at=request.break_start,
            minutes=request.break_minutes,
            set_by=decider,
        )
    return request


def _check_team_member(lead: Person, person_id: int) -> Person:
    from agents.scoping import person_get_for

    person = person_get_for(lead, person_id)
    if not (lead.is_superuser or lead.role in DECIDING_ROLES):
        raise ValidationError(_("Only a team lead or a manager sets schedules."))
    if person.role != "agent":
        raise ValidationError(_("Schedules are set for agents."))
    return person


def working_hours_set(*, lead: Person, person_id: int, weekdays: list[int], starts, ends) -> int:
    """Set an agent's working hours on the given weekdays (replacing what was there)."""
    from agents.models import WorkingHours

    person = _check_team_member(lead, person_id)
    if ends <= starts:
        raise ValidationError(_("The end must be after the start."))
    if not weekdays or any(d not in range(7) for d in weekdays):
        raise ValidationError(_("Choose the weekdays."))
    with transaction.atomic():
        for day in weekdays:
            WorkingHours.objects.update_or_create(
                person=person, weekday=day, defaults={"starts": starts, "ends": ends}
            )
    return len(weekdays)


def working_hours_clear(*, lead: Person, person_id: int, weekday: int) -> None:
    from agents.models import WorkingHours

    person = _check_team_member(lead, person_id)
    WorkingHours.objects.filter(person=person, weekday=weekday).delete()


def break_slot_add(
    *, lead: Person, person_id: int, starts_at: datetime, minutes: int, reason: str = "break"
):
    from agents.models import BreakSlot

    person = _check_team_member(lead, person_id)
    if not 5 <= minutes <= 120:
        raise ValidationError(_("A break lasts 5 to 120 minutes."))
    _validate_choice(AgentState.NOT_READY, reason)
    return BreakSlot.objects.create(
        person=person, starts_at=starts_at, minutes=minutes, reason=reason, set_by=lead
    )


def break_slot_remove(*, lead: Person, slot_id: int) -> None:
    from agents.models import BreakSlot

    slot = BreakSlot.objects.filter(pk=slot_id).first()
    if slot is None:
        raise ValidationError(_("No such break."))
    _check_team_member(lead, slot.person_id)
    slot.delete()
