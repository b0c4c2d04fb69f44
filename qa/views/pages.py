"""QA's home (each role's queue and inbox) and the recordings list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from agents.models import Role
from agents.roles import can
from callcenter.clock import month_start
from qa.selectors.coaching import coaching_plans_for
from qa.selectors.evaluations import (
    agent_inbox,
    disputes_to_review,
    evaluations_done_by,
    evaluations_visible_to,
    evaluator_queue,
)
from qa.selectors.reports import month_summary
from telephony.models import CallPhase
from telephony.selectors import calls_visible_to


@login_required
@require_GET
def recordings(request: HttpRequest) -> HttpResponse:
    me = request.user
    calls = list(
        calls_visible_to(me)
        .filter(phase=CallPhase.COMPLETED)
        .exclude(recording_status="")
        .select_related("agent", "team", "disposition", "customer")
        .prefetch_related(
            Prefetch(
                "evaluations",
                queryset=evaluations_visible_to(me).filter(calibration__isnull=True),
                to_attr="qa_evaluations",
            )
        )
        .order_by("-enqueued_at")[:100]
    )
    return render(
        request,
        "qa/recordings.html",
        {"calls": calls, "may_calibrate": can(me, "run_calibrations")},
    )


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The person's QA work: what to score, disputes to review, calibrations; for an agent,
    their evaluations (new ones first) and coaching plans."""
    me = request.user
    month = month_start()
    context = {
        "queue": evaluator_queue(me),
        "reviews": disputes_to_review(me),
        "inbox": agent_inbox(me)[:50],
        "done": evaluations_done_by(me)[:20],
        "plans": coaching_plans_for(me).filter(status="open")[:20],
        "summary": month_summary(me, month) if me.role != Role.AGENT else None,
        "month": month,
        "today": timezone.localdate(),
    }
    return render(request, "qa/home.html", context)
