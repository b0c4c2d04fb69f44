"""Reads about people and agent work, with their rules."""

from __future__ import annotations

from django.db.models import QuerySet

from agents.models import Person, Role
from agents.reach import people_visible_to
from callcenter.clock import day_bounds

HOME_FOR_ROLE = {
    Role.AGENT: "desk:desktop",
    Role.TEAM_LEAD: "desk:team-board",
    Role.TRAINING_LEAD: "qa:home",
    Role.MANAGER: "kpi:dashboard",
    Role.DIRECTOR: "kpi:dashboard",
    Role.ADMIN: "agents:org-chart",
}


def home_url_name(person: Person) -> str:
    return HOME_FOR_ROLE.get(person.role, "agents:org-chart")


def roster_for(
    person: Person, *, role: str = "", team_id: int | None = None, q: str = ""
) -> QuerySet[Person]:
    qs = people_visible_to(person).select_related("team__department", "status", "reports_to")
    if role:
        qs = qs.filter(role=role)
    if team_id:
        qs = qs.filter(team_id=team_id)
    if q:
        qs = qs.filter(display_name__icontains=q) | qs.filter(username__icontains=q)
    return qs.order_by("team__department_id", "team_id", "role", "display_name")


def upcoming_breaks_for(person: Person):
    """Today's and later scheduled breaks of the agents the person may see."""
    from agents.models import BreakSlot

    start, _ = day_bounds()
    return (
        BreakSlot.objects.filter(
            person__in=people_visible_to(person).filter(role=Role.AGENT), starts_at__gte=start
        )
        .select_related("person", "set_by")
        .order_by("starts_at")[:100]
    )
