"""Disputes: the agent disputes a scored evaluation; a reviewer who is not the evaluator
upholds or changes the score."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person, Role
from qa.models import Dispute, DisputeStatus, Evaluation, EvaluationStatus
from qa.scoring import Mark
from qa.services.common import _event, _pii_guard, _pii_record
from qa.services.evaluations import _write_answers, check_agent_owns, clean_marks, evaluation_score


def dispute_reviewer_for(evaluation: Evaluation) -> Person | None:
    """Who reviews a dispute: never the original evaluator. Training leads of the center
    first, then the agent's team lead, then the department's managers; the one with the
    fewest open disputes."""
    candidates: list[Person] = []
    center_id = evaluation.department.center_id
    for group in (
        Person.objects.filter(role=Role.TRAINING_LEAD, center_id=center_id),
        Person.objects.filter(role=Role.TEAM_LEAD, team_id=evaluation.team_id),
        Person.objects.filter(role=Role.MANAGER, managed_departments=evaluation.department_id),
        Person.objects.filter(role=Role.DIRECTOR, center_id=center_id),
    ):
        candidates = list(
            group.filter(is_active=True)
            .exclude(pk=evaluation.evaluator_id)
            .exclude(pk=evaluation.agent_id)
            .annotate(
                open_reviews=Count(
                    "qa_disputes_to_review",
                    filter=Q(qa_disputes_to_review__status=DisputeStatus.OPEN),
                )
            )
            .order_by("open_reviews", "id")
        )
        if candidates:
            return candidates[0]
    return None


def dispute_open(
    *, evaluation: Evaluation, actor: Person, reason: str, pii_confirmed: bool = False
) -> Dispute:
    """The agent disputes their own scored evaluation with a reason; it goes to a reviewer
    who is not the evaluator. `reason`, as written, goes through the PII guard (PiiBlocked
    until `pii_confirmed`, then stored masked)."""
    reason = (reason or "").strip()
    guarded = _pii_guard(evaluation.call, {"reason": reason}, confirmed=pii_confirmed)
    reason = guarded.texts["reason"]
    with transaction.atomic():
        evaluation = (
            Evaluation.objects.select_for_update()
            .select_related("department")
            .get(pk=evaluation.pk)
        )
        check_agent_owns(actor, evaluation)
        if not reason:
            raise ValidationError(_("Say why you dispute this evaluation."))
        if evaluation.status not in (EvaluationStatus.SUBMITTED, EvaluationStatus.ACKNOWLEDGED):
            raise ValidationError(_("This evaluation cannot be disputed now."))
        reviewer = dispute_reviewer_for(evaluation)
        if reviewer is None:
            raise ValidationError(_("There is nobody other than the evaluator to review it."))
        now = timezone.now()
        dispute = Dispute.objects.create(
            evaluation=evaluation,
            raised_by=actor,
            reason=reason[:4000],
            reviewer=reviewer,
            score_before=evaluation.score,
            raised_at=now,
        )
        evaluation.status = EvaluationStatus.DISPUTED
        evaluation.read_at = evaluation.read_at or now
        evaluation.save(update_fields=["status", "read_at", "updated_at"])
        _event(evaluation, "disputed", actor, now, before=evaluation.score, note=reason)
        _pii_record(actor, evaluation.call, guarded.found(), now)
    return dispute


def check_may_resolve(actor: Person, dispute: Dispute) -> None:
    if dispute.evaluation.evaluator_id == actor.pk or dispute.evaluation.agent_id == actor.pk:
        raise PermissionDenied
    if not (dispute.reviewer_id == actor.pk or actor.is_superuser):
        raise PermissionDenied
    if dispute.status != DisputeStatus.OPEN:
        raise ValidationError(_("This dispute has been resolved already."))


def dispute_resolve(
    *,
    dispute: Dispute,
    actor: Person,
    resolution: str,
    marks: Mapping[int, Mark] | None = None,
    pii_confirmed: bool = False,
) -> Dispute:
    """Uphold the score (no `marks`) or change it (new answers, rescored). The answers and
    score before are kept in the evaluation's history. `resolution`, as written, goes
    through the PII guard (PiiBlocked until `pii_confirmed`, then stored masked)."""
    resolution = (resolution or "").strip()
    guarded = _pii_guard(
        dispute.evaluation.call, {"resolution": resolution}, confirmed=pii_confirmed
    )
    resolution = guarded.texts["resolution"]
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update().select_related("evaluation").get(pk=dispute.pk)
        )
        check_may_resolve(actor, dispute)
        if not resolution:
            raise ValidationError(_("Explain the decision to the agent."))
        evaluation = (
            Evaluation.objects.select_for_update()
            .select_related("scorecard")
            .get(pk=dispute.evaluation_id)
        )
        now = timezone.now()
        before = evaluation.score
        if marks is not None:
            marks = clean_marks(evaluation, marks)
            result = evaluation_score(evaluation, marks)
            if result.missing:
                raise ValidationError(_("Answer every criterion (or mark it N/A)."))
            old_answers = {
                str(a.item_id): {"value": a.value, "na": a.not_applicable}
                for a in evaluation.answers.all()
            }
            notes = {a.item_id: a.note for a in evaluation.answers.all()}
            _write_answers(evaluation, marks, notes)
            changed = old_answers != {
                str(k): {"value": None if m.not_applicable else m.value, "na": m.not_applicable}
                for k, m in marks.items()
            }
        else:
            changed = False
        if changed:
            evaluation.score = result.overall
            evaluation.compliance_score = result.compliance
            evaluation.auto_failed = result.auto_failed
            dispute.status = DisputeStatus.CHANGED
            _event(
                evaluation,
                "changed",
                actor,
                now,
                before=before,
                after=result.overall,
                note=resolution,
                data={"answers_before": old_answers},
            )
        else:
            dispute.status = DisputeStatus.UPHELD
            _event(evaluation, "upheld", actor, now, before=before, after=before, note=resolution)
        dispute.resolution = resolution[:4000]
        dispute.score_after = evaluation.score
        dispute.resolved_at = now
        dispute.save(update_fields=["status", "resolution", "score_after", "resolved_at"])
        evaluation.status = EvaluationStatus.RESOLVED
        evaluation.read_at = None  # the agent is told again
        evaluation.save(
            update_fields=[
                "status",
                "score",
                "compliance_score",
                "auto_failed",
                "read_at",
                "updated_at",
            ]
        )
        _pii_record(actor, evaluation.call, guarded.found(), now)
    return dispute
