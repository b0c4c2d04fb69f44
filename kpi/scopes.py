"""What a KPI page may show a person: units of the chart within their reach (agents.reach)."""

from __future__ import annotations

from dataclasses import dataclass

from agents.models import Person, Role
from agents.reach import departments_visible_to, people_visible_to, reach_of, teams_visible_to
from telephony.models import Queue


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
    scopes: list[KpiScope] = []
    if reach_of(person).center_id:
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
