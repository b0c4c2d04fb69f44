"""Coaching plans a person may see, and the follow-up evaluation of a plan."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from agents.models import Person
from agents.reach import people_visible_to
from qa.models import SCORED_STATUSES, CoachingPlan, Evaluation


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
