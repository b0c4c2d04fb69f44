"""Agent states: the status row, its transitions and their intervals, the desktop's
choice and the idle clock routing reads."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
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
from callcenter.clock import day_bounds
from callcenter.events import AgentBecameAvailable, emit

log = logging.getLogger(__name__)

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
    return status


def agents_transition_bulk(*, person_ids: list[int], to_state: str, at: datetime, **also) -> None:
    """agent_transition for many agents at once (the router pairs calls in batches):
    the same fields and intervals in a fixed number of statements. `also` are further
    status fields to set (e.g. last_offered_at).

    Precondition: every status is locked by the caller and none is already in `to_state`.
    """
    if not person_ids:
        return
    AgentStateInterval.objects.filter(person_id__in=person_ids, ended_at__isnull=True).update(
        ended_at=at
    )
    AgentStateInterval.objects.bulk_create(
        [AgentStateInterval(person_id=i, state=to_state, started_at=at) for i in person_ids]
    )
    AgentStatus.objects.filter(person_id__in=person_ids).update(
        **{**_transition_fields(to_state, "", at), **also}
    )


def agent_state_choice_check(state: str, reason: str) -> None:
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
    day_start, _ = day_bounds(at)
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
    agent_state_choice_check(state, reason)
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
        emit(AgentBecameAvailable(agent_id=person.pk))
    return status


@transaction.atomic
def agent_set_escalations_only(
    *, person: Person, on: bool, at: datetime | None = None
) -> AgentStatus:
    """A 실장 takes 실장 연결 only (the ACD offers them no queue calls) or everything again.
    Turning it on also makes them Available, unless they are busy with a call (then it
    applies when that call's wrap-up ends)."""
    if person.role != Role.TEAM_LEAD:
        raise PermissionDenied
    agent_status_ensure(person=person, at=at)
    status = agent_status_lock(person_id=person.pk)
    status.escalations_only = on
    status.save(update_fields=["escalations_only"])
    if on and status.state not in BUSY_STATES and status.state != AgentState.AVAILABLE:
        status.requested_state = ""
        status.requested_reason = ""
        agent_transition(status=status, to_state=AgentState.AVAILABLE, at=at)
    return status


def agent_finish_work(*, status: AgentStatus, at: datetime | None = None) -> AgentStatus:
    """End of wrap-up: apply the requested state, else AVAILABLE. Caller holds the lock."""
    to_state = status.requested_state or AgentState.AVAILABLE
    reason = status.requested_reason if to_state == AgentState.NOT_READY else ""
    status.requested_state = ""
    status.requested_reason = ""
    return agent_transition(status=status, to_state=to_state, reason=reason, at=at)
