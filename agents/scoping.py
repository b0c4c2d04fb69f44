"""The one place that decides what each role may see (DOMAIN.md "Visibility follows the chart").

agent: themself · team lead: their team · manager: their departments ·
director, training lead and staff admin: the whole center.
Every page and API reads through these functions; no view filters by team on its own.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from agents.models import Department, Person, Role, Team

if TYPE_CHECKING:
    from telephony.models import Call
    from tickets.models import Customer, Ticket

CENTER_WIDE_ROLES = {Role.DIRECTOR, Role.TRAINING_LEAD, Role.ADMIN}


def is_center_wide(person: Person) -> bool:
    return person.role in CENTER_WIDE_ROLES or person.is_superuser


def departments_visible_to(person: Person) -> QuerySet[Department]:
    qs = Department.objects.all()
    if is_center_wide(person):
        return qs.filter(center_id=person.center_id) if person.center_id else qs
    if person.role == Role.MANAGER:
        return qs.filter(managers=person)
    return qs.none()


def teams_visible_to(person: Person) -> QuerySet[Team]:
    qs = Team.objects.select_related("department")
    if is_center_wide(person):
        return qs.filter(department__center_id=person.center_id) if person.center_id else qs
    if person.role == Role.MANAGER:
        return qs.filter(department__managers=person)
    if person.role == Role.TEAM_LEAD:
        return qs.filter(pk=person.team_id)
    return qs.none()


def people_visible_to(person: Person) -> QuerySet[Person]:
    qs = Person.objects.filter(is_active=True)
    if is_center_wide(person):
        return qs.filter(center_id=person.center_id) if person.center_id else qs
    if person.role == Role.MANAGER:
        return qs.filter(
            Q(team__department__managers=person)
            | Q(managed_departments__managers=person)
            | Q(pk=person.pk)
        ).distinct()
    if person.role == Role.TEAM_LEAD:
        return qs.filter(team_id=person.team_id)
    return qs.filter(pk=person.pk)


def person_get_for(viewer: Person, person_id: int) -> Person:
    """The person, if the viewer may see them; 404 otherwise (no existence leak)."""
    try:
        return people_visible_to(viewer).get(pk=person_id)
    except Person.DoesNotExist as exc:
        raise Http404 from exc


def _any_of(alternatives: list) -> Q:
    return reduce(operator.or_, alternatives)


def _in_center_of(person: Person) -> Q:
    """The center-wide roles' rule for work filed under a department."""
    return Q(department__center_id=person.center_id) if person.center_id else Q()


def _offered_to(person: Person) -> Q:
    return Q(offers__agent=person)


def _call_alternatives(person: Person) -> list[Q]:
    """calls_visible_to's rule as alternatives (a call is visible if it meets any one),
    each with an index of its own."""
    if is_center_wide(person):
        return [_in_center_of(person)]
    if person.role == Role.MANAGER:
        return [Q(department__managers=person)]
    if person.role == Role.TEAM_LEAD:
        return [Q(team_id=person.team_id)]
    # An agent: the calls they took, and those offered to them (answered or not).
    return [Q(agent=person), _offered_to(person)]


def calls_visible_to(person: Person) -> QuerySet[Call]:
    from telephony.models import Call

    alternatives = _call_alternatives(person)
    qs = Call.objects.filter(_any_of(alternatives))
    # Through its offers (a join, a row per offer) a call could come back more than once.
    return qs.distinct() if _offered_to(person) in alternatives else qs


def _ticket_alternatives(person: Person) -> list[Q]:
    """tickets_visible_to's rule as alternatives, like _call_alternatives."""
    if is_center_wide(person):
        return [_in_center_of(person)]
    if person.role == Role.MANAGER:
        return [Q(department__managers=person)]
    # Agents and team leads: their team's tickets, and any ticket assigned to them.
    return [Q(team_id=person.team_id), Q(assignee=person)]


def tickets_visible_to(person: Person) -> QuerySet[Ticket]:
    from tickets.models import Ticket

    return Ticket.objects.filter(_any_of(_ticket_alternatives(person)))


def ticket_get_for(person: Person, ticket_id: int) -> Ticket:
    from tickets.models import Ticket

    try:
        return tickets_visible_to(person).get(pk=ticket_id)
    except Ticket.DoesNotExist as exc:
        raise Http404 from exc


def require_role(person: Person, *roles: str) -> None:
    if person.is_superuser or person.role in roles:
        return
    raise PermissionDenied


@dataclass(frozen=True)
class KpiScope:
    """One row a KPI page may show: a unit of the chart the viewer may see."""

    kind: str  # "agent" | "team" | "department" | "queue" | "center"
    id: int
    label: str
    department_id: int | None = None
    team_id: int | None = None


def kpi_scopes_visible_to(person: Person) -> list[KpiScope]:
    """Center (center-wide roles), departments and their queues (managers up), teams (team
    leads up) and agents, each only as far as the person may see."""
    from telephony.models import Queue

    scopes: list[KpiScope] = []
    if is_center_wide(person) and person.center_id:
        scopes.append(KpiScope("center", person.center_id, person.center.name))
    departments = list(departments_visible_to(person).order_by("id"))
    for dept in departments:
        scopes.append(KpiScope("department", dept.pk, dept.name, department_id=dept.pk))
    for queue in Queue.objects.filter(department__in=departments).order_by("id"):
        scopes.append(KpiScope("queue", queue.pk, queue.name, department_id=queue.department_id))
    for team in teams_visible_to(person).order_by("department_id", "id"):
        scopes.append(
            KpiScope(
                "team",
                team.pk,
                f"{team.department.name} · {team.name}",
                department_id=team.department_id,
                team_id=team.pk,
            )
        )
    agents = (
        people_visible_to(person)
        .filter(role=Role.AGENT)
        .select_related("team")
        .order_by("team_id", "display_name")
    )
    for agent in agents:
        scopes.append(
            KpiScope(
                "agent",
                agent.pk,
                agent.display_name,
                department_id=agent.team.department_id if agent.team_id else None,
                team_id=agent.team_id,
            )
        )
    return scopes


def wallboard_queues_visible_to(person: Person):
    """Queues on the person's wallboard: the center's for center-wide roles, their
    departments' for a manager, their own department's for a team lead or an agent."""
    from telephony.models import Queue

    qs = Queue.objects.all()
    if is_center_wide(person):
        return qs.filter(department__center_id=person.center_id) if person.center_id else qs
    if person.role == Role.MANAGER:
        return qs.filter(department__managers=person)
    if person.role in {Role.TEAM_LEAD, Role.AGENT} and person.team_id:
        return qs.filter(department__teams=person.team_id)
    return qs.none()


def wallboard_center_visible_to(person: Person) -> bool:
    """The center tile (every queue summed) is for the center-wide roles."""
    return is_center_wide(person) and person.center_id is not None


def customer_seen_by(person: Person):
    """Customers are seen through the work about them: a customer is visible to whoever
    may see one of their tickets or calls (an agent: their team's tickets, their own calls
    and those offered to them; a team lead: their team's; and so on up the chart).

    As a condition on a customer row: does a ticket or a call of theirs that the person
    may see exist? Each EXISTS seeks that customer's own tickets or calls through its
    customer index, so asking it of a few customers costs a few index reads, whatever the
    person may see in all (a search asks it of the customers that match, not of all)."""
    theirs = {"customer_id": OuterRef("pk")}
    return Exists(tickets_visible_to(person).filter(**theirs)) | Exists(
        calls_visible_to(person).filter(**theirs)
    )


def customer_get_for(person: Person, customer_id: int) -> Customer:
    """The customer, if the viewer may see them; 404 otherwise (no existence leak).

    Asked for every call whose timeline the desktop shows (customer_seen_by, for one
    customer). The rule stays one condition inside each EXISTS on purpose: SQLite
    without statistics, given `team_id = %s` beside `customer_id = %s`, may walk the
    team's tickets instead."""
    from tickets.models import Customer

    try:
        return Customer.objects.filter(customer_seen_by(person)).get(pk=customer_id)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc


def voicemails_visible_to(person: Person):
    """Voicemails are their department's work: its agents and team leads (by their team),
    its managers, and the center-wide roles (who also see messages left for no department)."""
    from telephony.models import Voicemail

    qs = Voicemail.objects.all()
    if is_center_wide(person):
        if person.center_id:
            return qs.filter(Q(department__center_id=person.center_id) | Q(department__isnull=True))
        return qs
    if person.role == Role.MANAGER:
        return qs.filter(department__managers=person)
    if person.role in {Role.TEAM_LEAD, Role.AGENT} and person.team_id:
        return qs.filter(department__teams=person.team_id)
    return qs.none()


def approval_requests_visible_to(person: Person):
    """Approval requests follow the chart: an agent sees their own, a team lead their
    team's, a manager their departments', the center-wide roles all."""
    from agents.models import ApprovalRequest

    qs = ApprovalRequest.objects.all()
    if is_center_wide(person):
        return qs.filter(team__department__center_id=person.center_id) if person.center_id else qs
    if person.role == Role.MANAGER:
        return qs.filter(team__department__managers=person)
    if person.role == Role.TEAM_LEAD:
        return qs.filter(team_id=person.team_id)
    return qs.filter(requester=person)


def approval_request_get_for(person: Person, request_id: int):
    from agents.models import ApprovalRequest

    try:
        return approval_requests_visible_to(person).get(pk=request_id)
    except ApprovalRequest.DoesNotExist as exc:
        raise Http404 from exc


def evaluations_visible_to(person: Person):
    """QA evaluations follow the chart like calls (by the agent's team and department at the
    time of the call): an agent sees their own once scored, never calibration scores; a team
    lead their team's; a manager their departments'; the center-wide roles the center's. An
    evaluator also sees what they were given to score."""
    from qa.models import SCORED_STATUSES, Evaluation

    qs = Evaluation.objects.all()
    if is_center_wide(person):
        return qs.filter(department__center_id=person.center_id) if person.center_id else qs
    if person.role == Role.MANAGER:
        return qs.filter(Q(department__managers=person) | Q(evaluator=person)).distinct()
    if person.role == Role.TEAM_LEAD:
        return qs.filter(Q(team_id=person.team_id, calibration__isnull=True) | Q(evaluator=person))
    return qs.filter(
        Q(agent=person, calibration__isnull=True, status__in=SCORED_STATUSES) | Q(evaluator=person)
    )
