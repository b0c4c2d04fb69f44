"""Every QA write: scorecard versions, sampling runs, evaluations, disputes, coaching and
calibration. Permission checks live here (`check_…` style: PermissionDenied for who, a
ValidationError for what), so the pages and the API share them."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Center, Department, DepartmentKind, Person, Role
from agents.reach import departments_visible_to, people_visible_to, reach_of
from agents.roles import can, roles_that
from callcenter.clock import month_bounds
from qa.models import (
    OPEN_STATUSES,
    Answer,
    AssignMode,
    AutoFailMode,
    CalibrationSession,
    CoachingPlan,
    CoachingStatus,
    CoachingTask,
    ComplianceTag,
    Dispute,
    DisputeStatus,
    Evaluation,
    EvaluationComment,
    EvaluationEvent,
    EvaluationStatus,
    ItemKind,
    SampleReason,
    SampleRun,
    SampleRunStatus,
    SamplingPolicy,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardStatus,
)
from qa.scoring import Mark, ScoreResult, score
from qa.selectors import scorecard_specs
from telephony.models import Call, CallPhase, Survey
from telephony.selectors import calls_visible_to

logger = logging.getLogger(__name__)

TARGETED_RULES = (
    SampleReason.LOW_CSAT,
    SampleReason.ESCALATION,
    SampleReason.LONG_HANDLE,
    SampleReason.PII,
    SampleReason.NOT_SAVED,
)


def _event(
    evaluation: Evaluation,
    kind: str,
    actor: Person | None,
    at: datetime,
    *,
    before: float | None = None,
    after: float | None = None,
    note: str = "",
    data: dict | None = None,
) -> None:
    EvaluationEvent.objects.create(
        evaluation=evaluation,
        actor=actor,
        kind=kind,
        score_before=before,
        score_after=after,
        note=note,
        data=data or {},
        at=at,
    )


# --- Scorecards ----------------------------------------------------------------------------


def scorecard_publish(*, scorecard: Scorecard, actor: Person | None, at=None) -> Scorecard:
    """Publish a draft version; the version published before it is retired (its evaluations
    keep pointing at it)."""
    at = at or timezone.now()
    with transaction.atomic():
        scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
        if scorecard.status != ScorecardStatus.DRAFT:
            raise ValidationError(_("Only a draft version can be published."))
        items = ScorecardItem.objects.filter(section__scorecard=scorecard)
        if not items.filter(bonus=False).exists():
            raise ValidationError(_("A scorecard needs at least one scored (non-bonus) item."))
        if items.filter(kind=ItemKind.YES_NO).exclude(max_points=1).exists():
            raise ValidationError(_("Yes/no items score 0 or 1: set their maximum to 1."))
        Scorecard.objects.filter(family=scorecard.family, status=ScorecardStatus.PUBLISHED).update(
            status=ScorecardStatus.RETIRED
        )
        scorecard.status = ScorecardStatus.PUBLISHED
        scorecard.published_at = at
        scorecard.save(update_fields=["status", "published_at"])
    return scorecard


def scorecard_new_version(*, scorecard: Scorecard, actor: Person | None) -> Scorecard:
    """Editing a published scorecard: a new draft version with a copy of its sections and
    items. An existing draft of the family is returned instead of a second one."""
    with transaction.atomic():
        draft = Scorecard.objects.filter(
            family=scorecard.family, status=ScorecardStatus.DRAFT
        ).first()
        if draft:
            return draft
        latest = Scorecard.objects.filter(family=scorecard.family).order_by("-version").first()
        new = Scorecard.objects.create(
            family=scorecard.family,
            version=latest.version + 1,
            name=scorecard.name,
            description=scorecard.description,
            department=scorecard.department,
            queue=scorecard.queue,
            auto_fail_mode=scorecard.auto_fail_mode,
            created_by=actor,
        )
        for section in scorecard.sections.prefetch_related("items"):
            items = list(section.items.all())
            section.pk = None
            section.scorecard = new
            section.save()
            for item in items:
                item.pk = None
                item.section = section
                item.save()
    return new


CARD_FIELDS = {"name", "description", "department", "queue", "auto_fail_mode"}
SECTION_FIELDS = {"title", "weight", "position"}
ITEM_FIELDS = {
    "text",
    "guidance",
    "kind",
    "max_points",
    "weight",
    "allow_na",
    "auto_fail",
    "bonus",
    "compliance",
    "position",
}


def check_may_edit_scorecards(actor: Person) -> None:
    if not can(actor, "edit_scorecards"):
        raise PermissionDenied


def scorecard_create(
    *, actor: Person, name: str, family: str, department: Department | None = None
) -> Scorecard:
    """A new scorecard family: version 1, a draft with no sections yet."""
    check_may_edit_scorecards(actor)
    name, family = (name or "").strip(), (family or "").strip()
    if not name or not family:
        raise ValidationError(_("Give the scorecard a name and a key."))
    if Scorecard.objects.filter(family=family).exists():
        raise ValidationError(_("A scorecard with this key exists: edit it as a new version."))
    return Scorecard.objects.create(
        family=family, version=1, name=name[:120], department=department, created_by=actor
    )


def _item_errors(values: dict) -> list[str]:
    errors = []
    if "kind" in values and values["kind"] not in ItemKind.values:
        errors.append(_("Unknown criterion type."))
    if "max_points" in values and not values["max_points"] > 0:
        errors.append(_("A criterion's maximum must be more than 0."))
    if "weight" in values and values["weight"] < 0:
        errors.append(_("Weights cannot be negative."))
    if values.get("kind") == ItemKind.YES_NO and values.get("max_points", 1) != 1:
        errors.append(_("Yes/no items score 0 or 1: set their maximum to 1."))
    if values.get("kind") == ItemKind.SCALE and not float(values.get("max_points", 1)).is_integer():
        errors.append(_("A scale's maximum is a whole number."))
    if "compliance" in values and values["compliance"] not in ComplianceTag.values:
        errors.append(_("Unknown compliance tag."))
    if "text" in values and not (values["text"] or "").strip():
        errors.append(_("Every criterion needs a text."))
    return errors


def scorecard_draft_apply(
    *,
    scorecard: Scorecard,
    actor: Person,
    fields: Mapping | None = None,
    sections: Iterable[Mapping] = (),
    items: Iterable[Mapping] = (),
) -> Scorecard:
    """Edit a draft version in one transaction. `sections` and `items` are rows with an
    `id` (existing, of this draft), or none (new: a section needs a title, an item its
    `section_id`); `delete: True` removes the row. A published or retired version is never
    edited (ValidationError): make a new version."""
    check_may_edit_scorecards(actor)
    errors: list[str] = []
    with transaction.atomic():
        card = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
        if card.status != ScorecardStatus.DRAFT:
            raise ValidationError(_("A published version cannot be edited: make a new version."))
        for key, value in (fields or {}).items():
            if key not in CARD_FIELDS:
                raise ValidationError(_("Unknown field %(field)s.") % {"field": key})
            if key == "auto_fail_mode" and value not in AutoFailMode.values:
                errors.append(_("Unknown auto-fail option."))
            setattr(card, key, value)
        if not (card.name or "").strip():
            errors.append(_("Give the scorecard a name and a key."))
        own_sections = {s.pk: s for s in card.sections.all()}
        own_items = {i.pk: i for i in ScorecardItem.objects.filter(section__scorecard=card)}
        new_sections = []
        for row in sections:
            row = dict(row)
            pk = row.pop("id", None)
            delete = row.pop("delete", False)
            unknown = set(row) - SECTION_FIELDS
            if unknown:
                raise ValidationError(_("Unknown field %(field)s.") % {"field": ", ".join(unknown)})
            if row.get("weight", 0) < 0:
                errors.append(_("Weights cannot be negative."))
            if pk is None:
                if not (row.get("title") or "").strip():
                    errors.append(_("A new section needs a title."))
                new_sections.append(row)
                continue
            section = own_sections.get(pk)
            if section is None:
                raise ValidationError(_("That section is not part of this draft."))
            if delete:
                section.delete()
                own_sections.pop(pk)
                continue
            for key, value in row.items():
                setattr(section, key, value)
            section.save()
        for row in items:
            row = dict(row)
            pk = row.pop("id", None)
            delete = row.pop("delete", False)
            section_id = row.pop("section_id", None)
            unknown = set(row) - ITEM_FIELDS
            if unknown:
                raise ValidationError(_("Unknown field %(field)s.") % {"field": ", ".join(unknown)})
            if pk is None:
                if section_id not in own_sections:
                    raise ValidationError(_("That section is not part of this draft."))
                row.setdefault("kind", ItemKind.YES_NO)
                row.setdefault("max_points", 1)
                errors += _item_errors(row)
                if not errors:
                    ScorecardItem.objects.create(section_id=section_id, **row)
                continue
            item = own_items.get(pk)
            if item is None:
                raise ValidationError(_("That criterion is not part of this draft."))
            if delete:
                if item.section_id in own_sections:
                    item.delete()
                continue
            merged = {
                "kind": item.kind,
                "max_points": item.max_points,
                **row,
            }
            errors += _item_errors(merged)
            for key, value in row.items():
                setattr(item, key, value)
            if not errors and item.section_id in own_sections:
                item.save()
        if errors:
            transaction.set_rollback(True)
            raise ValidationError(list(dict.fromkeys(errors)))
        for row in new_sections:
            ScorecardSection.objects.create(scorecard=card, **row)
        card.save()
    return card


def scorecard_for_call(call: Call) -> Scorecard | None:
    """The published scorecard for a call: its queue's, else its department's, else the
    center-wide one."""
    published = Scorecard.objects.filter(status=ScorecardStatus.PUBLISHED)
    return (
        published.filter(queue_id=call.queue_id).first()
        or published.filter(department_id=call.department_id, queue__isnull=True).first()
        or published.filter(department__isnull=True, queue__isnull=True).first()
    )


# --- Sampling and assignment ---------------------------------------------------------------


def check_may_sample(actor: Person) -> None:
    if not can(actor, "sample_calls"):
        raise PermissionDenied


def sample_run_start(
    *,
    actor: Person,
    month: date,
    department: Department | None = None,
    seed: int | None = None,
    rules: Iterable[str] = (),
    assign_mode: str = AssignMode.TEAM_LEAD,
    dispatch: bool = True,
) -> SampleRun:
    """Record a sampling run for `month` and hand it to a worker (after commit). A manager
    samples their departments; the center-wide roles the center or one department."""
    check_may_sample(actor)
    rules = [r for r in rules]
    unknown = set(rules) - set(TARGETED_RULES)
    if unknown:
        raise ValidationError(_("Unknown sampling rule: %(rule)s") % {"rule": ", ".join(unknown)})
    if assign_mode not in AssignMode.values:
        raise ValidationError(_("Unknown assignment mode."))
    visible = departments_visible_to(actor)
    if department is not None and not visible.filter(pk=department.pk).exists():
        raise PermissionDenied
    if department is None and not reach_of(actor).is_center_wide:
        raise ValidationError(_("Choose one of your departments."))
    center = department.center if department else actor.center or Center.objects.first()
    if center is None:
        raise ValidationError(_("There is no center to sample."))
    month = month.replace(day=1)
    run = SampleRun.objects.create(
        center=center,
        department=department,
        month=month,
        # The same month and seed give the same sample: default seed = the month.
        seed=seed if seed is not None else month.year * 100 + month.month,
        rules=rules,
        assign_mode=assign_mode,
        started_by=actor,
        started_at=timezone.now(),
    )
    if dispatch:
        from qa.tasks import qa_sample_run

        transaction.on_commit(lambda: qa_sample_run.delay(run.pk))
    return run


# A post-call survey answer of 1 or 2 out of 5 (telephony.Survey): the dissatisfied caller.
LOW_CSAT_SCORE = 2


def _rule_filter(rule: str, policy: SamplingPolicy | None) -> Q:
    if rule == SampleReason.LOW_CSAT:
        low = Survey.objects.filter(score__lte=LOW_CSAT_SCORE, call__isnull=False)
        return Q(pk__in=low.values("call_id"))
    if rule == SampleReason.ESCALATION:
        return Q(events__kind="escalation") | Q(transfers__events__kind="escalation")
    if rule == SampleReason.LONG_HANDLE:
        return Q(handle__gte=policy.long_handle_seconds if policy else 600)
    if rule == SampleReason.PII:
        from tickets.models import PiiDetection

        return Q(pk__in=PiiDetection.objects.filter(call__isnull=False).values("call_id"))
    if rule == SampleReason.NOT_SAVED:
        return Q(department__kind=DepartmentKind.CANCELLATION, disposition__code="not_saved")
    raise ValueError(rule)


def _evaluator_pool(run: SampleRun, agent: Person, qa_staff: list[Person]) -> list[Person]:
    leads = [
        p for p in Person.objects.filter(role=Role.TEAM_LEAD, team_id=agent.team_id, is_active=True)
    ]
    if run.assign_mode == AssignMode.TEAM_LEAD:
        return leads or qa_staff
    if run.assign_mode == AssignMode.QA_STAFF:
        return qa_staff or leads
    return leads + qa_staff


def sample_run_execute(
    *, run_id: int, progress: Callable[[int, int], None] | None = None
) -> SampleRun:
    """Take the month's sample for every agent in the run's scope. Reproducible: each agent's
    handled, recorded calls of the month are shuffled by a generator seeded with (seed,
    month, agent) and taken in that order, skipping calls already sampled; an agent who has
    N random evaluations this month gets no more, so a re-run adds only what is missing.
    Targeted rules add up to the policy's number of calls per agent on top. Each sampled
    call goes to the least-loaded evaluator the run's mode allows (open evaluations)."""
    run = SampleRun.objects.select_related("center", "department").get(pk=run_id)
    if run.status == SampleRunStatus.DONE:
        return run
    start, end = month_bounds(run.month)
    departments = (
        [run.department]
        if run.department
        else list(Department.objects.filter(center=run.center).order_by("id"))
    )
    policies = {
        p.department_id: p for p in SamplingPolicy.objects.filter(department__in=departments)
    }
    agents = list(
        Person.objects.filter(
            role=Role.AGENT, is_active=True, team__department__in=departments
        ).order_by("team__department_id", "team_id", "id")
    )
    qa_staff = list(
        Person.objects.filter(role=Role.TRAINING_LEAD, is_active=True, center=run.center).order_by(
            "id"
        )
    )
    load = Counter(
        dict(
            Evaluation.objects.filter(status__in=OPEN_STATUSES)
            .values_list("evaluator_id")
            .annotate(n=Count("id"))
        )
    )
    run.status = SampleRunStatus.RUNNING
    run.total = len(agents)
    run.done = 0
    run.save(update_fields=["status", "total", "done"])
    calls = Call.objects.filter(
        phase=CallPhase.COMPLETED,
        recording_status="completed",
        wrapup_ended_at__gte=start,
        wrapup_ended_at__lt=end,
        department__in=departments,
    ).exclude(recording_url="")
    skipped_no_scorecard = skipped_no_evaluator = 0
    today = timezone.localdate()
    try:
        for n, agent in enumerate(agents, start=1):
            policy = policies.get(agent.team.department_id) if agent.team_id else None
            per_agent = policy.calls_per_agent if policy else 2
            targeted_max = policy.targeted_per_agent if policy else 1
            due = today + timedelta(days=policy.due_days if policy else 7)
            mine = calls.filter(agent=agent)
            order = sorted(mine.values_list("pk", flat=True))
            random.Random(f"{run.seed}:{run.month:%Y-%m}:{agent.pk}").shuffle(order)  # noqa: S311
            rank = {pk: i for i, pk in enumerate(order)}
            taken = set(
                Evaluation.objects.filter(call_id__in=order, calibration__isnull=True).values_list(
                    "call_id", flat=True
                )
            )
            month_evals = Evaluation.objects.filter(
                agent=agent, month=run.month, calibration__isnull=True
            )
            wanted: list[tuple[int, str]] = []
            need = per_agent - month_evals.filter(reason=SampleReason.RANDOM).count()
            for pk in order:
                if need <= 0:
                    break
                if pk not in taken:
                    wanted.append((pk, SampleReason.RANDOM))
                    taken.add(pk)
                    need -= 1
            need = targeted_max - month_evals.filter(reason__in=TARGETED_RULES).count()
            if run.rules and need > 0:
                annotated = mine.annotate(
                    handle=Coalesce(F("talk_seconds"), 0.0)
                    + F("hold_seconds")
                    + Coalesce(F("acw_seconds"), 0.0)
                )
                for rule in run.rules:
                    if need <= 0:
                        break
                    hits = set(
                        annotated.filter(_rule_filter(rule, policy)).values_list("pk", flat=True)
                    )
                    for pk in sorted(hits - taken, key=rank.__getitem__):
                        if need <= 0:
                            break
                        wanted.append((pk, rule))
                        taken.add(pk)
                        need -= 1
            for pk, reason in wanted:
                call = Call.objects.get(pk=pk)
                scorecard = scorecard_for_call(call)
                if scorecard is None:
                    skipped_no_scorecard += 1
                    continue
                pool = _evaluator_pool(run, agent, qa_staff)
                if not pool:
                    skipped_no_evaluator += 1
                    continue
                evaluator = min(pool, key=lambda p: (load[p.pk], p.pk))
                try:
                    with transaction.atomic():
                        Evaluation.objects.create(
                            call=call,
                            scorecard=scorecard,
                            agent=agent,
                            team_id=call.team_id,
                            department_id=call.department_id,
                            evaluator=evaluator,
                            reason=reason,
                            sample_run=run,
                            month=run.month,
                            due_date=due,
                            created_at=timezone.now(),
                        )
                except IntegrityError:
                    continue  # another run sampled it meanwhile
                load[evaluator.pk] += 1
                run.created += 1
            run.done = n
            SampleRun.objects.filter(pk=run.pk).update(done=n, created=run.created)
            if progress:
                progress(n, len(agents))
    except Exception as exc:
        run.status = SampleRunStatus.FAILED
        run.error = f"{exc.__class__.__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    run.status = SampleRunStatus.DONE
    run.finished_at = timezone.now()
    notes = []
    if skipped_no_scorecard:
        notes.append(
            _("%(n)d sampled calls were skipped: their department has no published scorecard.")
            % {"n": skipped_no_scorecard}
        )
    if skipped_no_evaluator:
        notes.append(
            _("%(n)d sampled calls were skipped: nobody may evaluate them.")
            % {"n": skipped_no_evaluator}
        )
    run.error = " ".join(notes)
    run.save(update_fields=["status", "finished_at", "error", "created", "done"])
    return run


def evaluation_assign_manual(
    *, actor: Person, call: Call, evaluator: Person, due_date: date | None = None
) -> Evaluation:
    """Put one call in someone's queue by hand (from the recordings list)."""
    if actor.role != Role.TEAM_LEAD:
        check_may_sample(actor)
    if not calls_visible_to(actor).filter(pk=call.pk).exists():
        raise PermissionDenied
    if call.agent_id is None or call.phase != CallPhase.COMPLETED:
        raise ValidationError(_("Only a handled call can be evaluated."))
    scorecard = scorecard_for_call(call)
    if scorecard is None:
        raise ValidationError(_("This call's department has no published scorecard."))
    local = timezone.localtime(call.wrapup_ended_at or call.enqueued_at)
    try:
        with transaction.atomic():
            return Evaluation.objects.create(
                call=call,
                scorecard=scorecard,
                agent=call.agent,
                team_id=call.team_id,
                department_id=call.department_id,
                evaluator=evaluator,
                reason=SampleReason.MANUAL,
                month=local.date().replace(day=1),
                due_date=due_date or timezone.localdate() + timedelta(days=7),
                created_at=timezone.now(),
            )
    except IntegrityError as exc:
        raise ValidationError(_("This call is already being evaluated.")) from exc


# --- Evaluating ----------------------------------------------------------------------------


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
    pii_found=(),
    at: datetime | None = None,
) -> Evaluation:
    """Save the evaluator's answers as a draft, or submit them: every criterion answered (or
    N/A), the score computed, the agent told (their QA inbox lists it as new). `notes` and
    `feedback` have been through the PII guard (tickets.forms.PiiCheck)."""
    at = at or timezone.now()
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
        _write_answers(evaluation, marks, notes or {})
        evaluation.feedback = feedback
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
        _pii_record(actor, evaluation, pii_found, at)
    return evaluation


def _pii_record(actor: Person, evaluation: Evaluation, found, at: datetime) -> None:
    """What the PII guard masked in a QA text (kind and masked form only), for the count."""
    from tickets.services.pii_detections import pii_detections_record

    pii_detections_record(agent=actor, call=evaluation.call, ticket=None, found=list(found), at=at)


def evaluation_comment_add(
    *, evaluation: Evaluation, actor: Person, at_seconds: float, body: str, pii_found=()
) -> EvaluationComment:
    """A comment at a moment of the recording, by the evaluator while scoring (or by a
    reviewer of a dispute). `body` has been through the PII guard."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Write the comment first."))
    if at_seconds is None or at_seconds < 0 or at_seconds > 24 * 3600:
        raise ValidationError(_("The moment must be a number of seconds into the recording."))
    open_review = evaluation.disputes.filter(reviewer=actor, status=DisputeStatus.OPEN).exists()
    if not ((evaluation.evaluator_id == actor.pk and evaluation.is_open) or open_review):
        raise PermissionDenied
    comment = EvaluationComment.objects.create(
        evaluation=evaluation,
        author=actor,
        at_seconds=round(float(at_seconds), 1),
        body=body[:2000],
        created_at=timezone.now(),
    )
    _pii_record(actor, evaluation, pii_found, comment.created_at)
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


# --- Disputes ------------------------------------------------------------------------------


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


def dispute_open(*, evaluation: Evaluation, actor: Person, reason: str, pii_found=()) -> Dispute:
    """The agent disputes their own scored evaluation with a reason; it goes to a reviewer
    who is not the evaluator. `reason` has been through the PII guard."""
    reason = (reason or "").strip()
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
        _pii_record(actor, evaluation, pii_found, now)
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
    pii_found=(),
) -> Dispute:
    """Uphold the score (no `marks`) or change it (new answers, rescored). The answers and
    score before are kept in the evaluation's history. `resolution` has been through the PII
    guard."""
    resolution = (resolution or "").strip()
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
        _pii_record(actor, evaluation, pii_found, now)
    return dispute


# --- Coaching ------------------------------------------------------------------------------


def coaching_plan_create(
    *,
    actor: Person,
    agent: Person,
    goals: str,
    due_date: date,
    follow_up_date: date,
    tasks: Iterable[tuple[str, date | None]] = (),
    evaluation: Evaluation | None = None,
    pii_found=(),
) -> CoachingPlan:
    """`goals` and the tasks have been through the PII guard (CoachingPlanForm)."""
    if not can(actor, "coach_agents"):
        raise PermissionDenied
    if not people_visible_to(actor).filter(pk=agent.pk).exists():
        raise PermissionDenied
    if evaluation is not None and evaluation.agent_id != agent.pk:
        raise ValidationError(_("The evaluation is about someone else."))
    goals = (goals or "").strip()
    errors = []
    if not goals:
        errors.append(_("Write the plan's goals."))
    today = timezone.localdate()
    if due_date < today or follow_up_date < today:
        errors.append(_("Dates must not be in the past."))
    tasks = [(t.strip(), d) for t, d in tasks if t and t.strip()]
    if not tasks:
        errors.append(_("Add at least one task."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        plan = CoachingPlan.objects.create(
            agent=agent,
            coach=actor,
            evaluation=evaluation,
            goals=goals,
            due_date=due_date,
            follow_up_date=follow_up_date,
            created_at=timezone.now(),
        )
        CoachingTask.objects.bulk_create(
            CoachingTask(plan=plan, text=text[:300], due_date=due) for text, due in tasks
        )
        if evaluation is not None:
            _event(evaluation, "coaching", actor, plan.created_at, data={"plan": plan.pk})
            _pii_record(actor, evaluation, pii_found, plan.created_at)
    return plan


def coaching_task_set_done(*, task: CoachingTask, actor: Person, done: bool) -> CoachingTask:
    """The agent (or their coach) ticks a task off; a plan whose tasks are all done is done."""
    plan = task.plan
    if actor.pk not in (plan.agent_id, plan.coach_id):
        raise PermissionDenied
    with transaction.atomic():
        task.done_at = timezone.now() if done else None
        task.save(update_fields=["done_at"])
        all_done = not plan.tasks.filter(done_at__isnull=True).exists()
        plan.status = CoachingStatus.DONE if all_done else CoachingStatus.OPEN
        plan.save(update_fields=["status"])
    return task


# --- Calibration ---------------------------------------------------------------------------


def calibration_create(
    *,
    actor: Person,
    call: Call,
    participants: Iterable[Person],
    title: str,
    scorecard: Scorecard | None = None,
    pii_found=(),
) -> CalibrationSession:
    """A blind calibration of one call: the facilitator (benchmark) and each participant get
    their own evaluation of it. `pii_found` is what the PII guard masked in the title."""
    if not can(actor, "run_calibrations"):
        raise PermissionDenied
    if not calls_visible_to(actor).filter(pk=call.pk).exists():
        raise PermissionDenied
    if call.agent_id is None or call.recording_status != "completed":
        raise ValidationError(_("Calibrate a handled call with a recording."))
    scorecard = scorecard or scorecard_for_call(call)
    if scorecard is None or scorecard.status != ScorecardStatus.PUBLISHED:
        raise ValidationError(_("This call's department has no published scorecard."))
    people = {p.pk: p for p in participants if p.pk != actor.pk}
    if not people:
        raise ValidationError(_("Invite at least one other evaluator."))
    allowed = set(
        people_visible_to(actor)
        .filter(pk__in=people, role__in=roles_that("join_calibrations"))
        .values_list("pk", flat=True)
    )
    if set(people) - allowed:
        raise ValidationError(_("Only team leads, training leads and managers can calibrate."))
    title = (title or "").strip() or _("Calibration")
    now = timezone.now()
    local = timezone.localtime(call.wrapup_ended_at or call.enqueued_at)
    with transaction.atomic():
        session = CalibrationSession.objects.create(
            title=title[:120], call=call, scorecard=scorecard, facilitator=actor, created_at=now
        )
        for person in [actor, *people.values()]:
            Evaluation.objects.create(
                call=call,
                scorecard=scorecard,
                agent=call.agent,
                team_id=call.team_id,
                department_id=call.department_id,
                evaluator=person,
                reason=SampleReason.CALIBRATION,
                month=local.date().replace(day=1),
                calibration=session,
                due_date=timezone.localdate() + timedelta(days=7),
                created_at=now,
            )
        if pii_found:
            from tickets.services.pii_detections import pii_detections_record

            pii_detections_record(
                agent=actor, call=call, ticket=None, found=list(pii_found), at=now
            )
    return session


def calibration_reveal(*, session: CalibrationSession, actor: Person) -> CalibrationSession:
    if session.facilitator_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied
    if session.revealed_at:
        return session
    bench = session.evaluations.filter(evaluator_id=session.facilitator_id).first()
    if bench is None or bench.is_open:
        raise ValidationError(_("Submit the benchmark (your own scoring) before revealing."))
    submitted = session.evaluations.exclude(status__in=OPEN_STATUSES).exclude(pk=bench.pk)
    if not submitted.exists():
        raise ValidationError(_("Nobody else has submitted yet."))
    session.revealed_at = timezone.now()
    session.save(update_fields=["revealed_at"])
    return session
