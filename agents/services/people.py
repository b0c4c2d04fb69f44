"""People: adding, editing and moving them in the chart (the roster and the admin), and
their skills (queue memberships)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agents.models import Person, QueueMembership, Role, Team
from agents.reach import people_visible_to, skill_queue_departments, teams_visible_to
from agents.roles import role_can, roles_assignable_by
from agents.services.states import agent_status_ensure

log = logging.getLogger(__name__)


# --- people: adding, editing and moving (the roster and the admin) -------------------------

# The roles each role may give and edit are agents.roles' `assign_<role>`; a manager only
# inside their departments, the others anywhere in their center (agents.reach.teams_visible_to
# decides which teams each may use).


def person_supervisor_default(*, role: str, team: Team | None) -> Person | None:
    """Who a person in `team` reports to when nobody is chosen: an agent to the team's 실장,
    a team lead to a manager of the team's department."""
    if team is None or not role_can(role, "take_calls"):
        return None
    if role == Role.AGENT:
        leads = Person.objects.filter(team=team, role=Role.TEAM_LEAD)
    else:
        leads = Person.objects.filter(role=Role.MANAGER, managed_departments=team.department_id)
    return leads.filter(is_active=True).order_by("id").first()


def person_supervisor_resolve(
    *, person: Person | None, role: str, team: Team | None, reports_to: Person | None
) -> Person | None:
    """The supervisor a change ends with: the chosen one; the default when none is chosen,
    or when the person moves to another team (or role) and the old one was left as it was
    (today's 실장 does not follow an agent into their new team)."""
    if reports_to is None:
        return person_supervisor_default(role=role, team=team)
    if person is not None and reports_to.pk == person.reports_to_id:
        moved = (team.pk if team else None) != person.team_id
        if moved or role != person.role:
            return person_supervisor_default(role=role, team=team)
    return reports_to


def _supervisor_fits(*, role: str, team: Team | None, supervisor: Person) -> bool:
    if role == Role.AGENT:
        return supervisor.role == Role.TEAM_LEAD and supervisor.team_id == team.pk
    if role == Role.TEAM_LEAD:
        return (
            supervisor.role == Role.MANAGER
            and supervisor.managed_departments.filter(pk=team.department_id).exists()
        ) or (
            supervisor.role == Role.DIRECTOR and supervisor.center_id == team.department.center_id
        )
    return True


def person_check(
    *,
    by: Person,
    person: Person | None,
    username: str,
    role: str,
    team: Team | None,
    reports_to: Person | None,
    employee_no: str,
) -> None:
    """Every rule a person's place in the chart must meet, as field errors (ValidationError
    with a dict); PermissionDenied when `by` may not edit people or this person at all."""
    assignable = roles_assignable_by(by)
    if not assignable:
        raise PermissionDenied
    if person is not None and (
        person.role not in assignable or not people_visible_to(by).filter(pk=person.pk).exists()
    ):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if role not in assignable:
        errors["role"] = _("You cannot give this role.")
    if role_can(role, "take_calls") and team is None:
        errors["team"] = _("Agents and team leads belong to a team: choose one.")
    elif not role_can(role, "take_calls") and team is not None:
        errors["team"] = _("Only agents and team leads belong to a team.")
    elif team is not None and not teams_visible_to(by).filter(pk=team.pk).exists():
        errors["team"] = _("This team is outside the departments you manage.")
    if reports_to is not None and "team" not in errors:
        if person is not None and reports_to.pk == person.pk:
            errors["reports_to"] = _("Nobody reports to themselves.")
        elif not _supervisor_fits(role=role, team=team, supervisor=reports_to):
            errors["reports_to"] = (
                _("An agent reports to a team lead of their team.")
                if role == Role.AGENT
                else _("A team lead reports to a manager of their department or the director.")
            )
    others = Person.objects.exclude(pk=person.pk) if person is not None else Person.objects
    if employee_no and others.filter(employee_no__iexact=employee_no).exists():
        errors["employee_no"] = _("Someone already has this employee number.")
    if person is None and others.filter(username__iexact=username).exists():
        errors["username"] = _("This username is taken.")
    if errors:
        raise ValidationError(errors)


def _skills_set(*, by: Person, person: Person, skills: dict[int, int | None]) -> None:
    """Set the person's level (1–10) in each queue of `skills`; None removes the skill.
    Only queues `by` may see are touched: other memberships stay as they are."""
    allowed = {d.queue.pk for d in skill_queue_departments(by)}
    for queue_id, level in skills.items():
        if queue_id not in allowed:
            raise PermissionDenied
        if level is None:
            QueueMembership.objects.filter(person=person, queue_id=queue_id).delete()
        elif 1 <= level <= 10:
            QueueMembership.objects.update_or_create(
                person=person, queue_id=queue_id, defaults={"proficiency": level}
            )
        else:
            raise ValidationError({"skills": _("A skill level is 1 to 10.")})


@transaction.atomic
def person_create(
    *,
    by: Person,
    username: str,
    display_name: str,
    role: str,
    team: Team | None,
    reports_to: Person | None = None,
    employee_no: str = "",
    skills: dict[int, int | None] | None = None,
) -> Person:
    """A new person in the chart, without a usable password: they choose one through the
    one-time link (agents.signin.services.password_reset_issue). With no supervisor chosen,
    the team's 실장 (or the department's manager, for a team lead)."""
    username, employee_no = username.strip(), employee_no.strip()
    person_check(
        by=by,
        person=None,
        username=username,
        role=role,
        team=team,
        reports_to=reports_to,
        employee_no=employee_no,
    )
    person = Person(
        username=username,
        display_name=display_name.strip(),
        role=role,
        team=team,
        center_id=team.department.center_id if team else by.center_id,
        reports_to=reports_to or person_supervisor_default(role=role, team=team),
        employee_no=employee_no,
    )
    person.set_unusable_password()
    person.save()
    agent_status_ensure(person=person)
    _skills_set(by=by, person=person, skills=skills or {})
    log.info("person %s added by person %s", person.pk, by.pk)
    return person


@transaction.atomic
def person_update(
    *,
    by: Person,
    person_id: int,
    display_name: str,
    role: str,
    team: Team | None,
    reports_to: Person | None,
    employee_no: str = "",
    skills: dict[int, int | None] | None = None,
) -> Person:
    """Change a person's name, role, team, supervisor or skills. No supervisor chosen means
    the default one (person_supervisor_default); moving to another team moves the supervisor
    with it: one left as it was becomes the new team's 실장.
    A team lead who leaves a team hands their agents to the team's other lead, if any."""
    person = Person.objects.select_for_update().get(pk=person_id)
    employee_no = employee_no.strip()
    moved = (team.pk if team else None) != person.team_id
    role_changed = role != person.role
    reports_to = person_supervisor_resolve(
        person=person, role=role, team=team, reports_to=reports_to
    )
    person_check(
        by=by,
        person=person,
        username=person.username,
        role=role,
        team=team,
        reports_to=reports_to,
        employee_no=employee_no,
    )
    old_team_id, was_lead = person.team_id, person.role == Role.TEAM_LEAD
    person.display_name = display_name.strip()
    person.role, person.team, person.reports_to = role, team, reports_to
    person.employee_no = employee_no
    if team is not None:
        person.center_id = team.department.center_id
    person.save()
    if was_lead and (moved or role_changed) and old_team_id:
        heir = (
            Person.objects.filter(team_id=old_team_id, role=Role.TEAM_LEAD, is_active=True)
            .exclude(pk=person.pk)
            .order_by("id")
            .first()
        )
        Person.objects.filter(team_id=old_team_id, reports_to=person).update(reports_to=heir)
    _skills_set(by=by, person=person, skills=skills or {})
    if moved:
        log.info(
            "person %s moved from team %s to team %s by person %s",
            person.pk,
            old_team_id,
            team.pk if team else None,
            by.pk,
        )
    return person
