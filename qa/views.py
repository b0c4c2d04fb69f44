"""QA's first page: recorded, handled calls the viewer may review (scorecards come next)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agents.scoping import calls_visible_to
from telephony.models import CallPhase


@login_required
def recordings(request: HttpRequest) -> HttpResponse:
    calls = (
        calls_visible_to(request.user)
        .filter(phase=CallPhase.COMPLETED)
        .exclude(recording_status="")
        .select_related("agent", "team", "disposition", "customer")
        .order_by("-enqueued_at")[:100]
    )
    return render(request, "qa/recordings.html", {"calls": calls})
