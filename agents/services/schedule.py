"""Working hours and scheduled breaks a team lead sets for the agents of their team."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agents.models import AgentState, BreakSlot, Person, WorkingHours
from agents.reach import person_get_for
from agents.roles import can
from agents.services.states import agent_state_choice_check


def _check_team_member(lead: Person, person_id: int) -> Person:
    person = person_get_for(lead, person_id)
    if not can(lead, "supervise"):
        raise ValidationError(_("Only a team lead or a manager sets schedules."))
    if person.role != "agent":
        raise ValidationError(_("Schedules are set for agents."))
    return person


def working_hours_set(*, lead: Person, person_id: int, weekdays: list[int], starts, ends) -> int:
    """Set an agent's working hours on the given weekdays (replacing what was there)."""
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
    person = _check_team_member(lead, person_id)
    WorkingHours.objects.filter(person=person, weekday=weekday).delete()


def break_slot_add(
    *, lead: Person, person_id: int, starts_at: datetime, minutes: int, reason: str = "break"
):

    person = _check_team_member(lead, person_id)
    if not 5 <= minutes <= 120:
        raise ValidationError(_("A break lasts 5 to 120 minutes."))
    agent_state_choice_check(AgentState.NOT_READY, reason)
    return BreakSlot.objects.create(
        person=person, starts_at=starts_at, minutes=minutes, reason=reason, set_by=lead
    )


def break_slot_remove(*, lead: Person, slot_id: int) -> None:
    slot = BreakSlot.objects.filter(pk=slot_id).first()
    if slot is None:
        raise ValidationError(_("No such break."))
    _check_team_member(lead, slot.person_id)
    slot.delete()
