"""Scoring an evaluation: answers, feedback, comments at a moment of the recording, reading
and acknowledging it. Permission checks raise PermissionDenied for who, ValidationError for
what."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from qa.models import (
    Answer,
    DisputeStatus,
    Evaluation,
    EvaluationComment,
    EvaluationStatus,
    ItemKind,
    ScorecardItem,
)
from qa.scoring import Mark, ScoreResult, score
from qa.selectors.scorecards import scorecard_specs
from qa.services.common import _event, _pii_guard, _pii_record


def evaluation_score(evaluation: Evaluation, marks: Mapping[int, Mark]) -> ScoreResult:
    return score(
        scorecard_specs(evaluation.scorecard_id),
        marks,
        auto_fail_mode=evaluation.scorecard.auto_fail_mode,
    )


def clean_marks(evaluation: Evaluation, raw: Mapping[int, Mark]) -> dict[int, Mark]:
    """Validate answers against the scorecard version: known items, values in range and of
    the item's type, N/A only where allowed. Raises ValidationError listing the problems."""
    items = {i.pk: i for i in ScorecardItem.objects.filter(section__scorecard=evaluation.scorecard)}
    errors = []
    marks = {}
    for item_id, mark in raw.items():
        item = items.get(item_id)
        if item is None:
            errors.append(_("Unknown criterion %(id)s.") % {"id": item_id})
            continue
        if mark.not_applicable:
            if not item.allow_na:
                errors.append(_("“%(item)s” cannot be N/A.") % {"item": item.text})
                continue
            marks[item_id] = mark
            continue
        if mark.value is None:
            continue
        value = mark.value
        ok = 0 <= value <= item.max_points
        if item.kind == ItemKind.YES_NO:
            ok = value in (0, item.max_points)
        elif item.kind == ItemKind.SCALE:
            ok = ok and float(value).is_integer()
        if not ok:
            errors.append(
                _("“%(item)s”: %(value)s is not a valid score (0–%(max)s).")
                % {"item": item.text, "value": value, "max": f"{item.max_points:g}"}
            )
            continue
        marks[item_id] = mark
    if errors:
        raise ValidationError(errors)
    return marks


def check_may_score(actor: Person, evaluation: Evaluation) -> None:
    if evaluation.evaluator_id != actor.pk:
        raise PermissionDenied
    if not evaluation.is_open:
        raise ValidationError(_("This evaluation has been submitted and can no longer be edited."))


def _write_answers(evaluation: Evaluation, marks: Mapping[int, Mark], notes: Mapping[int, str]):
    Answer.objects.filter(evaluation=evaluation).exclude(item_id__in=list(marks)).delete()
    for item_id, mark in marks.items():
        Answer.objects.update_or_create(
            evaluation=evaluation,
            item_id=item_id,
            defaults={
                "value": None if mark.not_applicable else mark.value,
                "not_applicable": mark.not_applicable,
                "note": (notes.get(item_id) or "")[:500],
            },
        )


def evaluation_save(
    *,
    evaluation: Evaluation,
    actor: Person,
    marks: Mapping[int, Mark],
    notes: Mapping[int, str] | None = None,
    feedback: str = "",
    submit: bool = False,
    pii_confirmed: bool = False,
    at: datetime | None = None,
) -> Evaluation:
    """Save the evaluator's answers as a draft, or submit them: every criterion answered (or
    N/A), the score computed, the agent told (their QA inbox lists it as new). `notes` and
    `feedback`, as written, go through the PII guard (PiiBlocked until `pii_confirmed`, then
    stored masked)."""
    at = at or timezone.now()
    notes = notes or {}
    texts = {f"note-{pk}": text for pk, text in notes.items() if text}
    guarded = _pii_guard(evaluation.call, {**texts, "feedback": feedback}, confirmed=pii_confirmed)
    notes = {pk: guarded.texts.get(f"note-{pk}", text) for pk, text in notes.items()}
    with transaction.atomic():
        evaluation = (
            Evaluation.objects.select_for_update().select_related("scorecard").get(pk=evaluation.pk)
        )
        check_may_score(actor, evaluation)
        marks = clean_marks(evaluation, marks)
        result = evaluation_score(evaluation, marks)
        if submit and result.missing:
            raise ValidationError(
                _("Answer every criterion (or mark it N/A) before submitting: %(n)d left.")
                % {"n": len(result.missing)}
            )
        _write_answers(evaluation, marks, notes)
        evaluation.feedback = guarded.texts["feedback"]
        evaluation.score = result.overall
        evaluation.compliance_score = result.compliance
        evaluation.auto_failed = result.auto_failed
        fields = ["feedback", "score", "compliance_score", "auto_failed", "status", "updated_at"]
        if submit:
            evaluation.status = EvaluationStatus.SUBMITTED
            evaluation.submitted_at = at
            fields.append("submitted_at")
            _event(evaluation, "submitted", actor, at, after=result.overall)
        else:
            evaluation.status = EvaluationStatus.DRAFT
        evaluation.save(update_fields=fields)
        _pii_record(actor, evaluation.call, guarded.found(), at)
    return evaluation


def evaluation_comment_add(
    *,
    evaluation: Evaluation,
    actor: Person,
    at_seconds: float,
    body: str,
    pii_confirmed: bool = False,
) -> EvaluationComment:
    """A comment at a moment of the recording, by the evaluator while scoring (or by a
    reviewer of a dispute). `body`, as written, goes through the PII guard (PiiBlocked until
    `pii_confirmed`, then stored masked)."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Write the comment first."))
    if at_seconds is None or at_seconds < 0 or at_seconds > 24 * 3600:
        raise ValidationError(_("The moment must be a number of seconds into the recording."))
    open_review = evaluation.disputes.filter(reviewer=actor, status=DisputeStatus.OPEN).exists()
    if not ((evaluation.evaluator_id == actor.pk and evaluation.is_open) or open_review):
        raise PermissionDenied
    guarded = _pii_guard(evaluation.call, {"body": body}, confirmed=pii_confirmed)
    with transaction.atomic():
        comment = EvaluationComment.objects.create(
            evaluation=evaluation,
            author=actor,
            at_seconds=round(float(at_seconds), 1),
            body=guarded.texts["body"][:2000],
            created_at=timezone.now(),
        )
        _pii_record(actor, evaluation.call, guarded.found(), comment.created_at)
    return comment


def evaluation_mark_read(*, evaluation: Evaluation, actor: Person) -> None:
    if evaluation.agent_id == actor.pk and evaluation.is_scored and evaluation.read_at is None:
        now = timezone.now()
        # Only the request that actually marks it read writes the event (two tabs opening
        # it at once record one read).
        if Evaluation.objects.filter(pk=evaluation.pk, read_at__isnull=True).update(read_at=now):
            _event(evaluation, "read", actor, now)


def check_agent_owns(actor: Person, evaluation: Evaluation) -> None:
    if evaluation.agent_id != actor.pk or evaluation.calibration_id is not None:
        raise PermissionDenied


def evaluation_acknowledge(*, evaluation: Evaluation, actor: Person) -> Evaluation:
    with transaction.atomic():
        evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        check_agent_owns(actor, evaluation)
        if evaluation.status not in (EvaluationStatus.SUBMITTED, EvaluationStatus.RESOLVED):
            raise ValidationError(_("Only a submitted or resolved evaluation can be acknowledged."))
        now = timezone.now()
        evaluation.status = EvaluationStatus.ACKNOWLEDGED
        evaluation.acknowledged_at = now
        evaluation.read_at = evaluation.read_at or now
        evaluation.save(update_fields=["status", "acknowledged_at", "read_at", "updated_at"])
        _event(evaluation, "acknowledged", actor, now, after=evaluation.score)
    return evaluation
