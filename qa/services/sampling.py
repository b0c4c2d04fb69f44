"""Sampling runs (the month's random and targeted calls per agent) and putting one call in
someone's queue by hand."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Center, Department, DepartmentKind, Person, Role
from agents.reach import departments_visible_to, reach_of
from agents.roles import can
from callcenter.clock import month_bounds, month_start
from qa.models import (
    OPEN_STATUSES,
    AssignMode,
    Evaluation,
    SampleReason,
    SampleRun,
    SampleRunStatus,
    SamplingPolicy,
)
from qa.services.scorecards import scorecard_for_call
from telephony.models import Call, CallPhase, Survey
from telephony.selectors import calls_visible_to
from tickets.models import PiiDetection

TARGETED_RULES = (
    SampleReason.LOW_CSAT,
    SampleReason.ESCALATION,
    SampleReason.LONG_HANDLE,
    SampleReason.PII,
    SampleReason.NOT_SAVED,
)


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
    month = month_start(month)
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
        from qa.tasks import qa_sample_run  # qa.tasks imports this module

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
                month=month_start(local.date()),
                due_date=due_date or timezone.localdate() + timedelta(days=7),
                created_at=timezone.now(),
            )
    except IntegrityError as exc:
        raise ValidationError(_("This call is already being evaluated.")) from exc
