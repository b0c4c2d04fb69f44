"""The 실장's board: their team live (state and time in it, the live call, calls and AHT
today), the inbox of escalations, approval requests and SLA alerts, and the agents' page
for asking their 실장."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.models import Role
from agents.reach import approval_requests_visible_to, person_get_for, teams_visible_to
from agents.targets.selectors import daily_call_target_for
from callcenter.redirects import redirect_next
from desk import selectors
from desk.forms import ApprovalRequestForm, DecisionForm
from desk.views.desktop import HtmxHttpRequest
from telephony.selectors import calls_visible_to
from tickets.approvals import approval_request_create, approval_request_decide
from tickets.selectors import sla_alert_counts, sla_alerts_for


@login_required
def team_board(request: HtmxHttpRequest) -> HttpResponse:
    """실장's live view of their team: state and time in state, the live call, calls and
    AHT today; the escalations and approvals inbox."""
    context = _team_board_context(request)
    if request.htmx and request.GET.get("fragment") == "inbox":
        return render(request, "desk/team_board.html#inbox", context)
    template = "desk/team_board.html#board" if request.htmx else "desk/team_board.html"
    return render(request, template, context)


@login_required
def requests_page(request: HtmxHttpRequest) -> HttpResponse:
    """An agent's requests to their 실장 (refund, exception, break) and their answers; the
    escalations inbox for a team lead (every request of the team, newest first)."""
    if request.method == "POST" and request.user.role != Role.AGENT:
        # Leads and above decide requests; they have nobody here to ask.
        return HttpResponseForbidden(_("Only agents send requests to their team lead."))
    form = ApprovalRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                approval_request_create(requester=request.user, **data)
                return redirect("desk:requests")
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
        status = 422
    items = (
        approval_requests_visible_to(request.user)
        .select_related("requester", "ticket", "decided_by", "team")
        .order_by("-created_at")[:100]
    )
    return render(request, "desk/requests.html", {"form": form, "items": items}, status=status)


@login_required
@require_POST
def request_decide(request: HtmxHttpRequest, request_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        if form.has_error("decision"):
            return HttpResponseBadRequest(_("Choose approve or deny."))
        # The note names a customer's identifier (or is too long): show the findings on
        # that request's row; saving again stores the note masked.
        context = {
            **(_inbox_context(request) if request.htmx else _team_board_context(request)),
            "decision_form": form,
            "decision_for": request_id,
        }
        template = "desk/team_board.html#inbox" if request.htmx else "desk/team_board.html"
        return render(request, template, context, status=422)
    try:
        approval_request_decide(
            decider=request.user,
            request_id=request_id,
            approve=form.cleaned_data["decision"] == "approve",
            note=form.pii_raw["note"],
            pii_confirmed=form.pii_confirmed,
        )
    except ValidationError as exc:
        if request.htmx:
            return HttpResponse(" ".join(exc.messages), status=409)
        return HttpResponseBadRequest(" ".join(exc.messages))
    if request.htmx:
        return team_board_inbox(request)
    return redirect_next(request, "desk:team-board")


def _team_board_context(request: HtmxHttpRequest) -> dict:
    return {
        "people": selectors.team_board_rows_for(request.user),
        "teams": teams_visible_to(request.user),
        **_inbox_context(request),
    }


TEAM_BOARD_SLA_ALERTS = 5


def _inbox_context(request: HtmxHttpRequest) -> dict:
    counts = sla_alert_counts(request.user)
    return {
        "pending": selectors.pending_requests_for(request.user),
        # The most urgent few; the counts link to the full filtered ticket list.
        "sla_alerts": list(sla_alerts_for(request.user, limit=TEAM_BOARD_SLA_ALERTS)),
        "sla_counts": counts,
        "sla_total": sum(counts.values()),
    }


def team_board_inbox(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "desk/team_board.html#inbox", _inbox_context(request))


@login_required
def person_detail(request: HtmxHttpRequest, person_id: int) -> HttpResponse:
    person = person_get_for(request.user, person_id)
    intervals = person.state_intervals.order_by("-started_at")[:30]
    skills = person.skills.select_related("queue")
    calls = (
        calls_visible_to(request.user)
        .filter(agent=person)
        .select_related("disposition", "customer")
        .order_by("-enqueued_at")[:20]
    )
    return render(
        request,
        "desk/person_detail.html",
        {
            "person": person,
            "intervals": intervals,
            "skills": skills,
            "calls": calls,
            "daily_call_target": daily_call_target_for(person),
        },
    )
