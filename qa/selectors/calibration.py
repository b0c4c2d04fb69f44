"""Calibration sessions a person may see, and their blind results."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from agents.models import Person
from agents.roles import can
from qa.models import CalibrationSession, Evaluation, ScorecardItem
from qa.scoring import evaluator_alignment, items_alignment
from qa.selectors.evaluations import marks_of
from qa.selectors.scorecards import scorecard_specs


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
