"""Every write to people and agent states goes through here."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import AgentState, AgentStateInterval, AgentStatus, NotReadyReason, Person

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
    fields = {**_transition_fields(to_state, "", at), **also}
    AgentStatus.objects.filter(person_id__in=person_ids).update(**fields)
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
    agent_transition(status=status, to_state=state, reason=reason, at=at)
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
