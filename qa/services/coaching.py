"""Coaching plans and their tasks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from agents.reach import people_visible_to
from agents.roles import can
from qa.models import CoachingPlan, CoachingStatus, CoachingTask, Evaluation
from qa.services.common import _event, _pii_guard, _pii_record


def coaching_plan_create(
    *,
    actor: Person,
    agent: Person,
    goals: str,
    due_date: date,
    follow_up_date: date,
    tasks: Iterable[tuple[str, date | None]] = (),
    evaluation: Evaluation | None = None,
    pii_confirmed: bool = False,
) -> CoachingPlan:
    """`goals` and the tasks' texts, as written, go through the PII guard (a coach quoting a
    customer's number is a leak too): PiiBlocked until `pii_confirmed`, then stored masked."""
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
    texts = {"goals": goals, **{f"tasks-{i}": text for i, (text, _due) in enumerate(tasks)}}
    guarded = _pii_guard(evaluation.call if evaluation else None, texts, confirmed=pii_confirmed)
    goals = guarded.texts["goals"]
    tasks = [(guarded.texts[f"tasks-{i}"], due) for i, (_text, due) in enumerate(tasks)]
    # The detection log names the form's field: every task line is "tasks".
    found = [(field.partition("-")[0], kind, masked) for field, kind, masked in guarded.found()]
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
            _pii_record(actor, evaluation.call, found, plan.created_at)
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
