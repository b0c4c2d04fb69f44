"""QA reads with rules: what each person may see follows their reach (agents.reach)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404

from agents.models import Person, Role
from agents.reach import departments_visible_to, people_visible_to, reach_of, teams_visible_to
from agents.roles import can
from callcenter import clock
from qa.models import (
    OPEN_STATUSES,
    SCORED_STATUSES,
    Answer,
    CalibrationSession,
    CoachingPlan,
    Dispute,
    DisputeStatus,
    Evaluation,
    EvaluationStatus,
    SampleReason,
    SampleRun,
    SamplingPolicy,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardStatus,
)
from qa.scoring import (
    ItemSpec,
    Mark,
    SectionSpec,
    evaluator_alignment,
    item_failed,
    items_alignment,
)

# --- Scorecards ----------------------------------------------------------------------------


def scorecard_specs(scorecard_id: int) -> tuple[SectionSpec, ...]:
    sections = ScorecardSection.objects.filter(scorecard_id=scorecard_id).prefetch_related("items")
    return tuple(
        SectionSpec(
            id=s.pk,
            weight=s.weight,
            items=tuple(_item_spec(i) for i in s.items.all()),
        )
        for s in sections
    )


def _item_spec(item: ScorecardItem) -> ItemSpec:
    return ItemSpec(
        id=item.pk,
        max_points=item.max_points,
        weight=item.weight,
        auto_fail=item.auto_fail,
        bonus=item.bonus,
        compliance=item.compliance,
        allow_na=item.allow_na,
    )


def scorecards_visible_to(person: Person) -> QuerySet[Scorecard]:
    """Everyone sees the scorecards they are scored or score against: their center's
    center-wide ones and those of departments they work in or see."""
    dept_ids = set(departments_visible_to(person).values_list("pk", flat=True))
    if person.department_id:
        dept_ids.add(person.department_id)
    return Scorecard.objects.filter(
        Q(department__isnull=True) | Q(department_id__in=dept_ids)
    ).select_related("department", "queue")


def scorecard_get_for(person: Person, scorecard_id: int) -> Scorecard:
    scorecard = scorecards_visible_to(person).filter(pk=scorecard_id).first()
    if scorecard is None:
        raise Http404
    return scorecard


def scorecard_families(person: Person) -> list[list[Scorecard]]:
    """Versions grouped by family, newest first."""
    families: dict[str, list[Scorecard]] = defaultdict(list)
    for card in scorecards_visible_to(person).order_by("family", "-version"):
        families[card.family].append(card)
    return list(families.values())


# --- Evaluations ---------------------------------------------------------------------------


def evaluations_visible_to(person: Person) -> QuerySet[Evaluation]:
    """QA evaluations follow the chart like calls (by the agent's team and department at the
    time of the call): an agent sees their own once scored, never calibration scores; a team
    lead their team's; a manager their departments'; the center-wide roles the center's. An
    evaluator also sees what they were given to score."""
    r = reach_of(person)
    qs = Evaluation.objects.all()
    mine = Q(evaluator_id=r.person_id)
    if r.is_center_wide:
        return qs.filter(r.center())
    if r.managed_by:
        return qs.filter(r.departments() | mine).distinct()
    if r.team_id:
        return qs.filter(Q(team_id=r.team_id, calibration__isnull=True) | mine)
    return qs.filter(
        Q(agent_id=r.person_id, calibration__isnull=True, status__in=SCORED_STATUSES) | mine
    )


def evaluation_get_for(person: Person, evaluation_id: int) -> Evaluation:
    """The evaluation if the person may see it; 404 otherwise. A calibration score stays
    hidden from everyone but its evaluator until the session is revealed."""
    evaluation = (
        evaluations_visible_to(person)
        .select_related(
            "call",
            "call__customer",
            "call__disposition",
            "call__ticket",
            "call__queue",
            "scorecard",
            "agent",
            "evaluator",
            "team",
            "department",
            "calibration",
        )
        .filter(pk=evaluation_id)
        .first()
    )
    if evaluation is None:
        raise Http404
    session = evaluation.calibration
    # Blind until revealed: even the facilitator sees only their own scoring.
    if session is not None and session.revealed_at is None and evaluation.evaluator_id != person.pk:
        raise Http404
    return evaluation


def marks_of(evaluation: Evaluation) -> dict[int, Mark]:
    return {
        a.item_id: Mark(value=a.value, not_applicable=a.not_applicable)
        for a in evaluation.answers.all()
    }


@dataclass
class FormItem:
    item: ScorecardItem
    answer: Answer | None
    failed: bool = False


@dataclass
class FormSection:
    section: ScorecardSection
    items: list[FormItem] = field(default_factory=list)
    score: float | None = None


def evaluation_form(evaluation: Evaluation, result=None) -> list[FormSection]:
    answers = {a.item_id: a for a in evaluation.answers.all()}
    out = []
    for section in evaluation.scorecard.sections.prefetch_related("items"):
        fs = FormSection(section=section, score=result.sections.get(section.pk) if result else None)
        for item in section.items.all():
            answer = answers.get(item.pk)
            failed = bool(
                answer and item_failed(_item_spec(item), Mark(answer.value, answer.not_applicable))
            )
            fs.items.append(FormItem(item=item, answer=answer, failed=failed))
        out.append(fs)
    return out


def evaluator_queue(person: Person) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.filter(evaluator=person, status__in=OPEN_STATUSES)
        .select_related("call", "agent", "team", "scorecard", "calibration")
        .order_by("due_date", "agent_id", "id")
    )


def evaluations_done_by(person: Person) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.filter(evaluator=person, status__in=SCORED_STATUSES)
        .select_related("call", "agent", "team", "scorecard")
        .order_by("-submitted_at")
    )


def agent_inbox(person: Person) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.filter(
            agent=person, status__in=SCORED_STATUSES, calibration__isnull=True
        )
        .select_related("call", "evaluator", "scorecard")
        .order_by("-submitted_at")
    )


def unread_count(person: Person) -> int:
    return agent_inbox(person).filter(read_at__isnull=True).count()


def scope_evaluations(person: Person) -> QuerySet[Evaluation]:
    """Scored, non-calibration evaluations the person may see (the team's, the center's…)."""
    return (
        evaluations_visible_to(person)
        .filter(status__in=SCORED_STATUSES, calibration__isnull=True)
        .select_related("call", "agent", "evaluator", "team", "scorecard")
    )


def disputes_to_review(person: Person) -> QuerySet[Dispute]:
    return (
        Dispute.objects.filter(reviewer=person, status=DisputeStatus.OPEN)
        .select_related("evaluation", "evaluation__agent", "evaluation__evaluator", "raised_by")
        .order_by("raised_at")
    )


def open_dispute_of(evaluation: Evaluation) -> Dispute | None:
    return evaluation.disputes.filter(status=DisputeStatus.OPEN).select_related("reviewer").first()


def coaching_plans_for(person: Person) -> QuerySet[CoachingPlan]:
    visible = people_visible_to(person).values("pk")
    return (
        CoachingPlan.objects.filter(Q(agent=person) | Q(coach=person) | Q(agent__in=visible))
        .select_related("agent", "coach", "evaluation")
        .prefetch_related("tasks")
        .distinct()
    )


def coaching_plan_get_for(person: Person, plan_id: int) -> CoachingPlan:
    plan = coaching_plans_for(person).filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    return plan


def follow_up_of(plan: CoachingPlan) -> Evaluation | None:
    """The follow-up evaluation: the agent's first scored evaluation after the plan."""
    return (
        Evaluation.objects.filter(
            agent_id=plan.agent_id,
            status__in=SCORED_STATUSES,
            calibration__isnull=True,
            submitted_at__gt=plan.created_at,
        )
        .order_by("submitted_at")
        .first()
    )


# --- Calibration ---------------------------------------------------------------------------


def calibrations_for(person: Person) -> QuerySet[CalibrationSession]:
    return (
        CalibrationSession.objects.filter(Q(facilitator=person) | Q(evaluations__evaluator=person))
        .select_related("call", "scorecard", "facilitator")
        .distinct()
        .order_by("-created_at")
    )


def calibration_get_for(person: Person, session_id: int) -> CalibrationSession:
    session = calibrations_for(person).filter(pk=session_id).first()
    if session is None and can(person, "see_every_calibration"):
        session = CalibrationSession.objects.filter(pk=session_id).first()
    if session is None:
        raise Http404
    return session


@dataclass
class CalibrationRow:
    evaluator: Person
    evaluation: Evaluation
    score: float | None
    alignment: float | None
    is_benchmark: bool


@dataclass
class CalibrationResult:
    rows: list[CalibrationRow]
    items: list  # (ScorecardItem, ItemAlignment)
    average_spread: float | None


def calibration_result(session: CalibrationSession) -> CalibrationResult:
    evaluations = list(session.evaluations.select_related("evaluator").prefetch_related("answers"))
    bench_eval = next((e for e in evaluations if e.evaluator_id == session.facilitator_id), None)
    specs = scorecard_specs(session.scorecard_id)
    items = [i for s in specs for i in s.items]
    bench = marks_of(bench_eval) if bench_eval and bench_eval.is_scored else {}
    scored = [e for e in evaluations if e.is_scored and e is not bench_eval]
    rows = []
    for e in ([bench_eval] if bench_eval else []) + scored:
        is_bench = e is bench_eval
        rows.append(
            CalibrationRow(
                evaluator=e.evaluator,
                evaluation=e,
                score=e.score if e.is_scored else None,
                alignment=None if is_bench else evaluator_alignment(items, marks_of(e), bench),
                is_benchmark=is_bench,
            )
        )
    alignments = items_alignment(items, {e.evaluator_id: marks_of(e) for e in scored}, bench)
    by_id = {i.pk: i for i in ScorecardItem.objects.filter(section__scorecard=session.scorecard)}
    spreads = [a.spread / a.max_points for a in alignments if a.spread is not None]
    return CalibrationResult(
        rows=rows,
        items=[(by_id[a.item_id], a) for a in alignments],
        average_spread=100 * sum(spreads) / len(spreads) if spreads else None,
    )


# --- Reports -------------------------------------------------------------------------------


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


def published_scorecards() -> QuerySet[Scorecard]:
    return Scorecard.objects.filter(status=ScorecardStatus.PUBLISHED)


SAMPLE_REASON_CHOICES = [(r.value, r.label) for r in SampleReason]


@dataclass
class SampleRunSummary:
    created: int
    agents: int
    by_evaluator: list[tuple[str, int]]  # (evaluator's name, evaluations assigned)


def sample_run_summary(run: SampleRun) -> SampleRunSummary:
    """What a sampling run added: how many evaluations, for how many agents, assigned to
    whom (the message after a run)."""
    evaluations = Evaluation.objects.filter(sample_run=run)
    rows = (
        evaluations.values("evaluator")
        .annotate(n=Count("id"))
        .order_by("-n", "evaluator__display_name", "evaluator")
    )
    people = {p.pk: p for p in Person.objects.filter(pk__in=[r["evaluator"] for r in rows])}
    return SampleRunSummary(
        created=evaluations.count(),
        agents=evaluations.values("agent").distinct().count(),
        by_evaluator=[(str(people[r["evaluator"]]), r["n"]) for r in rows],
    )
