"""Evaluations a person may see (from their reach, agents.reach), the evaluation form,
queues and inboxes, and disputes."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404

from agents.models import Person
from agents.reach import reach_of
from qa.models import (
    OPEN_STATUSES,
    SCORED_STATUSES,
    Answer,
    Dispute,
    DisputeStatus,
    Evaluation,
    ScorecardItem,
    ScorecardSection,
)
from qa.scoring import Mark, item_failed
from qa.selectors.scorecards import _item_spec


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
