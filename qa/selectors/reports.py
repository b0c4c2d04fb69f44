"""QA reports over the evaluations a person may see: scores by month, failed criteria,
evaluators, coverage of the sampling targets, the month on the home page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Avg, Count, Q

from agents.models import Person, Role
from agents.reach import people_visible_to, teams_visible_to
from callcenter import clock
from qa.models import (
    OPEN_STATUSES,
    SCORED_STATUSES,
    Answer,
    CalibrationSession,
    EvaluationStatus,
    SamplingPolicy,
)
from qa.selectors.calibration import calibration_result
from qa.selectors.evaluations import evaluations_visible_to, scope_evaluations


@dataclass
class ReportRow:
    kind: str
    key: int | str
    label: str
    by_month: dict[date, float | None]
    count: int
    average: float | None
    compliance: float | None = None


def report_scores(
    person: Person, *, start: date, end: date, group: str
) -> tuple[list[date], list[ReportRow]]:
    """Average QA score (and compliance sub-score) per agent, team or department and month,
    over scored evaluations; evaluations with no score (all N/A) are left out."""
    months = clock.months(start, end)
    field_id, field_label = {
        "agent": ("agent_id", "agent__display_name"),
        "team": ("team_id", "team__name"),
        "department": ("department_id", "department__name"),
    }[group]
    qs = scope_evaluations(person).filter(month__gte=start, month__lte=end, score__isnull=False)
    cells = qs.values(field_id, field_label, "month").annotate(avg=Avg("score"), n=Count("id"))
    totals = qs.values(field_id, field_label).annotate(
        avg=Avg("score"), n=Count("id"), comp=Avg("compliance_score")
    )
    rows = {}
    for t in totals.order_by(field_label):
        rows[t[field_id]] = ReportRow(
            kind=group,
            key=t[field_id],
            label=t[field_label] or "–",
            by_month={m: None for m in months},
            count=t["n"],
            average=t["avg"],
            compliance=t["comp"],
        )
    for c in cells:
        rows[c[field_id]].by_month[c["month"]] = c["avg"]
    return months, list(rows.values())


@dataclass
class ItemFailureRow:
    team: str
    item: str
    scorecard: str
    answered: int
    failed: int
    compliance: str

    @property
    def rate(self) -> float:
        return 100 * self.failed / self.answered if self.answered else 0.0


def report_item_failures(person: Person, *, start: date, end: date) -> list[ItemFailureRow]:
    """Which criteria fail most, per team: an answer fails below half the item's maximum
    (a yes/no answered no); N/A answers and bonus items are left out."""
    answers = (
        Answer.objects.filter(
            evaluation__in=scope_evaluations(person).filter(month__gte=start, month__lte=end),
            not_applicable=False,
            value__isnull=False,
            item__bonus=False,  # a bonus not earned is not a failure
        )
        .select_related("item", "item__section__scorecard", "evaluation__team")
        .only(
            "value",
            "item__text",
            "item__max_points",
            "item__compliance",
            "item__section__scorecard__name",
            "evaluation__team__name",
        )
    )
    rows: dict[tuple, ItemFailureRow] = {}
    for a in answers:
        team = a.evaluation.team.name if a.evaluation.team else "–"
        key = (team, a.item.section.scorecard.name, a.item.text)
        row = rows.get(key)
        if row is None:
            row = rows[key] = ItemFailureRow(
                team,
                a.item.text,
                a.item.section.scorecard.name,
                0,
                0,
                a.item.get_compliance_display() if a.item.compliance else "",
            )
        row.answered += 1
        if a.value < a.item.max_points / 2:
            row.failed += 1
    return sorted(rows.values(), key=lambda r: (-r.rate, r.team, r.item))


@dataclass
class EvaluatorRow:
    evaluator: str
    evaluations: int
    average_given: float | None
    peer_average: float | None
    calibration_alignment: float | None
    calibration_sessions: int

    @property
    def versus_peers(self) -> float | None:
        if self.average_given is None or self.peer_average is None:
            return None
        return self.average_given - self.peer_average


def report_evaluators(person: Person, *, start: date, end: date) -> list[EvaluatorRow]:
    """Scores each evaluator gave against their peers' for the same departments and months,
    and their average alignment with the benchmark in revealed calibration sessions."""
    qs = scope_evaluations(person).filter(month__gte=start, month__lte=end, score__isnull=False)
    cell = {
        (c["department_id"], c["month"]): (c["avg"], c["n"])
        for c in qs.values("department_id", "month").annotate(avg=Avg("score"), n=Count("id"))
    }
    per = defaultdict(lambda: {"sum": 0.0, "n": 0, "peer_sum": 0.0, "peer_n": 0, "name": ""})
    for e in qs.values(
        "evaluator_id", "evaluator__display_name", "department_id", "month"
    ).annotate(avg=Avg("score"), n=Count("id")):
        row = per[e["evaluator_id"]]
        row["name"] = e["evaluator__display_name"]
        row["sum"] += e["avg"] * e["n"]
        row["n"] += e["n"]
        c_avg, c_n = cell[(e["department_id"], e["month"])]
        others = c_n - e["n"]
        if others:
            row["peer_sum"] += (c_avg * c_n - e["avg"] * e["n"]) / others * e["n"]
            row["peer_n"] += e["n"]
    alignments = defaultdict(list)
    visible_people = people_visible_to(person)
    sessions = CalibrationSession.objects.filter(
        revealed_at__isnull=False,
        created_at__date__gte=start,
        evaluations__evaluator__in=visible_people,
    ).distinct()
    names = {}
    for session in sessions:
        for row in calibration_result(session).rows:
            if row.alignment is not None:
                alignments[row.evaluator.pk].append(row.alignment)
                names[row.evaluator.pk] = row.evaluator.display_name
    out = []
    for pk in set(per) | set(alignments):
        r = per.get(pk) or {"sum": 0, "n": 0, "peer_sum": 0, "peer_n": 0, "name": names[pk]}
        al = alignments.get(pk, [])
        out.append(
            EvaluatorRow(
                evaluator=r["name"] or names.get(pk, "–"),
                evaluations=r["n"],
                average_given=r["sum"] / r["n"] if r["n"] else None,
                peer_average=r["peer_sum"] / r["peer_n"] if r["peer_n"] else None,
                calibration_alignment=100 * sum(al) / len(al) if al else None,
                calibration_sessions=len(al),
            )
        )
    return sorted(out, key=lambda r: r.evaluator)


@dataclass
class CoverageRow:
    agent: Person
    team: str
    wanted: int
    sampled: int
    scored: int


def report_coverage(person: Person, *, month: date) -> list[CoverageRow]:
    """Agents with fewer than N scored evaluations in the month (N = their department's
    policy), with how many were sampled."""
    agents = (
        people_visible_to(person)
        .filter(role=Role.AGENT)
        .select_related("team")
        .annotate(
            sampled=Count(
                "qa_evaluations",
                filter=Q(qa_evaluations__month=month, qa_evaluations__calibration__isnull=True),
            ),
            scored=Count(
                "qa_evaluations",
                filter=Q(
                    qa_evaluations__month=month,
                    qa_evaluations__calibration__isnull=True,
                    qa_evaluations__status__in=SCORED_STATUSES,
                ),
            ),
        )
        .order_by("team_id", "display_name")
    )
    wanted = dict(SamplingPolicy.objects.values_list("department_id", "calls_per_agent"))
    rows = []
    for agent in agents:
        n = wanted.get(agent.team.department_id if agent.team else None, 2)
        if agent.scored < n:
            rows.append(
                CoverageRow(
                    agent, agent.team.name if agent.team else "–", n, agent.sampled, agent.scored
                )
            )
    return rows


def report_teams(person: Person):
    return teams_visible_to(person)


def month_summary(person: Person, month: date) -> dict:
    qs = scope_evaluations(person).filter(month=month)
    agg = qs.aggregate(avg=Avg("score"), n=Count("id"), comp=Avg("compliance_score"))
    open_n = (
        evaluations_visible_to(person)
        .filter(month=month, status__in=OPEN_STATUSES, calibration__isnull=True)
        .count()
    )
    disputed = (
        evaluations_visible_to(person)
        .filter(month=month, status=EvaluationStatus.DISPUTED, calibration__isnull=True)
        .count()
    )
    return {
        "average": agg["avg"],
        "scored": agg["n"],
        "compliance": agg["comp"],
        "open": open_n,
        "disputed": disputed,
    }
