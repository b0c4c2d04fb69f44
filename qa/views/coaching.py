"""Coaching plans: a new plan from an evaluation, the list, a plan and its tasks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from agents.roles import role_can
from qa.forms import CoachingPlanForm
from qa.models import CoachingTask
from qa.selectors.coaching import coaching_plan_get_for, coaching_plans_for, follow_up_of
from qa.selectors.evaluations import evaluation_get_for
from qa.services.coaching import coaching_plan_create, coaching_task_set_done
from qa.views.common import _own_numbers


@login_required
def coaching_new(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    me = request.user
    evaluation = evaluation_get_for(me, evaluation_id)
    if not role_can(me.role, "coach_agents") or evaluation.agent_id == me.pk:
        raise Http404
    form = CoachingPlanForm(request.POST or None, own_phone=_own_numbers(evaluation))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                plan = coaching_plan_create(
                    actor=me,
                    agent=evaluation.agent,
                    evaluation=evaluation,
                    goals=form.pii_raw["goals"],
                    due_date=form.cleaned_data["due_date"],
                    follow_up_date=form.cleaned_data["follow_up_date"],
                    tasks=form.cleaned_data["tasks"],
                    pii_confirmed=form.pii_confirmed,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("qa:coaching-plan", plan_id=plan.pk)
        status = 400
    return render(
        request, "qa/coaching_new.html", {"form": form, "evaluation": evaluation}, status=status
    )


@login_required
@require_GET
def coaching_list(request: HttpRequest) -> HttpResponse:
    plans = coaching_plans_for(request.user).order_by("status", "due_date")[:200]
    return render(request, "qa/coaching_list.html", {"plans": plans})


@login_required
@require_GET
def coaching_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = coaching_plan_get_for(request.user, plan_id)
    return render(
        request,
        "qa/coaching_plan.html",
        {"plan": plan, "follow_up": follow_up_of(plan), "today": timezone.localdate()},
    )


@login_required
@require_POST
def coaching_task_toggle(request: HttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(CoachingTask.objects.select_related("plan"), pk=task_id)
    coaching_plan_get_for(request.user, task.plan_id)
    coaching_task_set_done(task=task, actor=request.user, done=request.POST.get("done") == "1")
    return redirect("qa:coaching-plan", plan_id=task.plan_id)
