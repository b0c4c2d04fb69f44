"""How far a person reaches in the org chart (DOMAIN.md "Visibility follows the chart").

agent: themself · team lead: their team · manager: their departments · director, training
lead and staff admin: the whole center. `reach_of` is the one primitive; each app decides
what of its own a reach sees, beside its models (`calls_visible_to` in telephony,
`tickets_visible_to` in tickets, ...). Agents' own things are decided here: the chart
(departments, teams, people) and approval requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from agents.models import ApprovalRequest, Department, Person, Team
from agents.roles import can


@dataclass(frozen=True)
class Reach:
    """What a person reaches: exactly one of team, departments or center is set (or
    `everywhere`, for a center-wide person filed under no center); none means themself."""

    person_id: int
    team_id: int | None = None
    # A manager's departments, those they manage. Kept as the person, not a list of ids:
    # a rule reads `department__managers=<id>`, one join inside the query that asks, where
    # a list would cost a query of its own and an IN list the planner builds first.
    managed_by: int | None = None
    center_id: int | None = None
    everywhere: bool = False

    @property
    def is_center_wide(self) -> bool:
        return self.center_id is not None or self.everywhere

    def departments(self, path: str = "department") -> Q:
        """Rows filed under one of the manager's departments, through `path`."""
        return Q(**{f"{path}__managers": self.managed_by})

    def center(self, path: str = "department__center_id") -> Q:
        """Rows filed under the person's center, through `path` (all, for `everywhere`)."""
        return Q(**{path: self.center_id}) if self.center_id is not None else Q()


def reach_of(person: Person) -> Reach:
    if can(person, "reach_center"):
        if person.center_id:
            return Reach(person.pk, center_id=person.center_id)
        return Reach(person.pk, everywhere=True)
    if can(person, "reach_departments"):
        return Reach(person.pk, managed_by=person.pk)
    if can(person, "reach_team"):
        return Reach(person.pk, team_id=person.team_id)
    return Reach(person.pk)


def require(person: Person, capability: str) -> None:
    if not can(person, capability):
        raise PermissionDenied


def departments_visible_to(person: Person) -> QuerySet[Department]:
    r = reach_of(person)
    qs = Department.objects.all()
    if r.is_center_wide:
        return qs.filter(r.center("center_id"))
    if r.managed_by:
        return qs.filter(managers=r.managed_by)
    return qs.none()


def teams_visible_to(person: Person) -> QuerySet[Team]:
    r = reach_of(person)
    qs = Team.objects.select_related("department")
    if r.is_center_wide:
        return qs.filter(r.center())
    if r.managed_by:
        return qs.filter(r.departments())
    if r.team_id:
        return qs.filter(pk=r.team_id)
    return qs.none()


def people_visible_to(person: Person) -> QuerySet[Person]:
    r = reach_of(person)
    qs = Person.objects.filter(is_active=True)
    if r.is_center_wide:
        return qs.filter(r.center("center_id"))
    if r.managed_by:
        # their departments' teams, the departments' other managers, and themself
        return qs.filter(
            r.departments("team__department")
            | r.departments("managed_departments")
            | Q(pk=r.person_id)
        ).distinct()
    if r.team_id:
        return qs.filter(team_id=r.team_id)
    return qs.filter(pk=r.person_id)


def queue_departments(person: Person, path: str = "department") -> Q | None:
    """The departments whose queues are on the person's wallboard and in their skill
    editor, through `path` ("" for a Department itself): the center's for center-wide
    roles, their departments' for a manager, their team's department for a team lead or
    an agent; None when the person reaches no queue. telephony's `queues_visible_to` reads
    this same rule."""
    at = f"{path}__" if path else ""
    r = reach_of(person)
    if r.is_center_wide:
        return r.center(f"{at}center_id")
    if r.managed_by:
        return Q(**{f"{at}managers": r.managed_by})
    if person.team_id:
        return Q(**{f"{at}teams": person.team_id})
    return None


def skill_queue_departments(person: Person) -> QuerySet[Department]:
    """Departments that have a queue the person may give skills in (each with its queue,
    `department.queue`), in department order."""
    rule = queue_departments(person, "")
    if rule is None:
        return Department.objects.none()
    return (
        Department.objects.filter(rule, queue__isnull=False).select_related("queue").order_by("id")
    )


def person_get_for(viewer: Person, person_id: int) -> Person:
    """The person, if the viewer may see them; 404 otherwise (no existence leak)."""
    try:
        return people_visible_to(viewer).get(pk=person_id)
    except Person.DoesNotExist as exc:
        raise Http404 from exc


def approval_requests_visible_to(person: Person) -> QuerySet[ApprovalRequest]:
    """Approval requests follow the chart: an agent sees their own, a team lead their
    team's, a manager their departments', the center-wide roles all."""
    r = reach_of(person)
    qs = ApprovalRequest.objects.all()
    if r.is_center_wide:
        return qs.filter(r.center("team__department__center_id"))
    if r.managed_by:
        return qs.filter(r.departments("team__department"))
    if r.team_id:
        return qs.filter(team_id=r.team_id)
    return qs.filter(requester_id=r.person_id)


def approval_request_get_for(person: Person, request_id: int) -> ApprovalRequest:
    try:
        return approval_requests_visible_to(person).get(pk=request_id)
    except ApprovalRequest.DoesNotExist as exc:
        raise Http404 from exc
