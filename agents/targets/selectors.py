"""The one resolver of targets: a team's own over its department's over the center's, each
the row in effect in the month asked about (the latest `effective_from` on or before it).

Every page that shows a target reads it here: the desktop's daily call target (through
tickets' today figures), the org chart and person pages, the KPI pages and the monthly
evaluation (through kpi.selectors.rows.targets_for), and the targets page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from agents.models import Center, Department, Person, Target, TargetMetric, Team
from agents.reach import departments_visible_to, reach_of, teams_visible_to
from agents.roles import can
from callcenter.clock import month_start

Key = tuple[str, int]  # ("center" | "department" | "team" | "agent", id)

# Who sets targets: the director (and staff admin) for the center, its departments and
# teams; a manager for their departments and their teams. Nobody else opens the page.


@dataclass(frozen=True)
class Chain:
    """Where a unit sits: the units whose targets it inherits, nearest last."""

    center_id: int | None
    department_id: int | None = None
    team_id: int | None = None


def _chains(keys: Iterable[Key]) -> dict[Key, Chain]:
    keys = set(keys)
    agent_ids = {i for k, i in keys if k == "agent"}
    agent_team = dict(Person.objects.filter(pk__in=agent_ids).values_list("id", "team_id"))
    team_ids = {i for k, i in keys if k == "team"} | {t for t in agent_team.values() if t}
    team_dept = dict(Team.objects.filter(pk__in=team_ids).values_list("id", "department_id"))
    dept_ids = {i for k, i in keys if k == "department"} | set(team_dept.values())
    dept_center = dict(Department.objects.filter(pk__in=dept_ids).values_list("id", "center_id"))

    def of_team(team_id: int | None) -> Chain:
        dept = team_dept.get(team_id)
        return Chain(dept_center.get(dept), dept, team_id if dept else None)

    out = {}
    for kind, pk in keys:
        if kind == "center":
            out[(kind, pk)] = Chain(pk)
        elif kind == "department":
            out[(kind, pk)] = Chain(dept_center.get(pk), pk if pk in dept_center else None)
        elif kind == "team":
            out[(kind, pk)] = of_team(pk)
        elif kind == "agent":
            out[(kind, pk)] = of_team(agent_team.get(pk))
    return out


def _rows_in_effect(chains: Iterable[Chain], on: date) -> dict[Key, dict[str, Target]]:
    """Per unit and metric, the row in effect in `on`'s month. One query."""
    chains = list(chains)
    centers = {c.center_id for c in chains if c.center_id}
    depts = {c.department_id for c in chains if c.department_id}
    teams = {c.team_id for c in chains if c.team_id}
    if not (centers or depts or teams):
        return {}
    rows = Target.objects.filter(
        Q(center_id__in=centers) | Q(department_id__in=depts) | Q(team_id__in=teams),
        effective_from__lte=month_start(on),
    ).order_by("effective_from")
    out: dict[Key, dict[str, Target]] = defaultdict(dict)
    for row in rows:  # a later month's row replaces an earlier one
        out[target_unit_key(row)][row.metric] = row
    # A row without a value ends the unit's own target: the unit inherits from that month.
    return {
        key: {metric: row for metric, row in by_metric.items() if row.value is not None}
        for key, by_metric in out.items()
    }


def target_unit_key(row: Target) -> Key:
    if row.team_id:
        return ("team", row.team_id)
    if row.department_id:
        return ("department", row.department_id)
    return ("center", row.center_id)


def _merged(chain: Chain, rows: dict[Key, dict[str, Target]]) -> dict[str, Target]:
    return {
        **rows.get(("center", chain.center_id), {}),
        **rows.get(("department", chain.department_id), {}),
        **rows.get(("team", chain.team_id), {}),
    }


def target_rows_resolved(keys: Iterable[Key], *, on: date | None = None) -> dict:
    """{unit: {metric: the Target row that applies}} — the row says where it comes from."""
    on = on or timezone.localdate()
    chains = _chains(keys)
    rows = _rows_in_effect(chains.values(), on)
    return {key: _merged(chain, rows) for key, chain in chains.items()}


def targets_resolved(keys: Iterable[Key], *, on: date | None = None) -> dict[Key, dict]:
    """{unit: {metric: value}} for centers, departments, teams and agents (an agent has
    their team's). Values in the stored convention: rates 0–1, seconds, counts."""
    return {
        key: {metric: row.value for metric, row in by_metric.items()}
        for key, by_metric in target_rows_resolved(keys, on=on).items()
    }


def _calls(value: float | None) -> int | None:
    return None if value is None else round(value)  # calls a day are whole calls


def daily_call_target_for(person: Person, *, on: date | None = None) -> int | None:
    """The calls a day the person's team is asked for (team, else department, else center)."""
    if not person.team_id:
        return None
    resolved = targets_resolved([("agent", person.pk)], on=on)[("agent", person.pk)]
    return _calls(resolved.get(TargetMetric.CALLS_PER_DAY))


def daily_call_targets_of_teams(team_ids: Iterable[int], *, on: date | None = None) -> dict:
    """{team id: calls a day} for the org chart."""
    resolved = targets_resolved([("team", t) for t in team_ids], on=on)
    return {pk: _calls(by.get(TargetMetric.CALLS_PER_DAY)) for (_k, pk), by in resolved.items()}


# --- The targets page -------------------------------------------------------------------


@dataclass(frozen=True)
class TargetUnitRef:
    kind: str  # "center" | "department" | "team"
    id: int
    label: str
    depth: int  # 0 center, 1 department, 2 team

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


def target_units_for(person: Person) -> list[TargetUnitRef]:
    """The units whose targets the person may set, center first, each department followed
    by its teams. 403 for a role that sets no targets."""
    if not can(person, "set_targets"):
        raise PermissionDenied
    units = []
    if reach_of(person).center_id:
        center = Center.objects.get(pk=person.center_id)
        units.append(TargetUnitRef("center", center.pk, center.name, 0))
    teams_by_dept = defaultdict(list)
    for team in teams_visible_to(person).order_by("department_id", "id"):
        teams_by_dept[team.department_id].append(team)
    for dept in departments_visible_to(person).order_by("id"):
        units.append(TargetUnitRef("department", dept.pk, dept.name, 1))
        units.extend(TargetUnitRef("team", t.pk, t.name, 2) for t in teams_by_dept[dept.pk])
    return units


def target_unit_get_for(person: Person, key: str) -> TargetUnitRef:
    """A unit the person may set targets on, from its "kind:id" key; 404 otherwise (another
    department's unit is not told apart from one that does not exist)."""
    for unit in target_units_for(person):
        if unit.key == key:
            return unit
    raise Http404


def target_history_for(person: Person) -> QuerySet[Target]:
    """Every target row of the units the person may set, newest first: the history."""
    units = target_units_for(person)
    by_kind = defaultdict(set)
    for unit in units:
        by_kind[unit.kind].add(unit.id)
    return (
        Target.objects.filter(
            Q(center_id__in=by_kind["center"])
            | Q(department_id__in=by_kind["department"])
            | Q(team_id__in=by_kind["team"])
        )
        .select_related("center", "department", "team__department", "set_by")
        .order_by("-effective_from", "-set_at", "-id")
    )
