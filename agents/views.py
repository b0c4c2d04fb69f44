"""Pages for people: role homes, the agent desktop, the org chart, roster and team board."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from agents import scoping, selectors, services
from agents.forms import RosterFilterForm, StateForm
from agents.models import AgentState, NotReadyReason, Role
from tickets.forms import WrapupForm


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    return redirect(selectors.home_url_name(request.user))


def _desktop_context(request: HtmxHttpRequest, *, error: str = "", wrapup_form=None) -> dict:
    state = selectors.desktop_state_for(request.user)
    if state.call and state.call.phase == "wrap_up" and wrapup_form is None:
        wrapup_form = WrapupForm(call=state.call, person=request.user)
    return {
        "desk": state,
        "desk_version": desk_version(state),
        "error": error,
        "wrapup_form": wrapup_form,
        "states": AgentState,
        "reasons": NotReadyReason.choices,
    }


def desk_version(state: selectors.DesktopState) -> str:
    """Changes whenever what the panel shows changes; polls with an equal version get 204,
    so the agent's half-typed wrap-up is never replaced under their fingers."""
    s, o, c = state.status, state.offer, state.call
    return "-".join(
        str(x)
        for x in (
            s.state,
            s.reason,
            s.requested_state,
            s.requested_reason,
            o.pk if o else 0,
            c.pk if c else 0,
            c.phase if c else "",
            c.hold_started_at.timestamp() if c and c.hold_started_at else 0,
            len(state.unfinished),
            state.handled_today,
            len(state.history_calls),
        )
    )


def render_desktop_panel(
    request: HtmxHttpRequest, *, error: str = "", wrapup_form=None, status: int = 200
) -> HttpResponse:
    context = _desktop_context(request, error=error, wrapup_form=wrapup_form)
    return render(request, "agents/desktop.html#panel", context, status=status)


@login_required
def desktop(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx and request.GET.get("fragment") == "panel":
        state = selectors.desktop_state_for(request.user)
        if request.GET.get("v") == desk_version(state):
            return HttpResponse(status=204)
        return render_desktop_panel(request)
    return render(request, "agents/desktop.html", _desktop_context(request))


@login_required
@require_POST
def state_set(request: HtmxHttpRequest) -> HttpResponse:
    form = StateForm(request.POST)
    if not form.is_valid():
        return render_desktop_panel(request, error=form.errors.as_text(), status=400)
    try:
        services.agent_set_state(
            person=request.user,
            state=form.cleaned_data["state"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        return render_desktop_panel(request, error=" ".join(exc.messages), status=400)
    if request.htmx:
        return render_desktop_panel(request)
    return redirect("agents:desktop")


@login_required
def org_chart(request: HtmxHttpRequest) -> HttpResponse:
    people = scoping.people_visible_to(request.user).select_related("status")
    teams = scoping.teams_visible_to(request.user).prefetch_related(
        Prefetch(
            "members", queryset=people.order_by("-role", "display_name"), to_attr="visible_members"
        )
    )
    departments = {}
    for team in teams:
        departments.setdefault(team.department, []).append(team)
    leaders = people.filter(
        role__in=[Role.DIRECTOR, Role.MANAGER, Role.TRAINING_LEAD]
    ).prefetch_related("managed_departments")
    return render(
        request, "agents/org_chart.html", {"departments": departments, "leaders": leaders}
    )


@login_required
def roster(request: HtmxHttpRequest) -> HttpResponse:
    teams = scoping.teams_visible_to(request.user)
    form = RosterFilterForm(request.GET or None, teams=teams)
    filters = form.cleaned_data if form.is_valid() else {}
    people = selectors.roster_for(
        request.user,
        role=filters.get("role") or "",
        team_id=filters.get("team"),
        q=filters.get("q") or "",
    )
    template = "agents/roster.html#rows" if request.htmx else "agents/roster.html"
    return render(request, template, {"form": form, "people": people})


@login_required
def person_detail(request: HtmxHttpRequest, person_id: int) -> HttpResponse:
    person = scoping.person_get_for(request.user, person_id)
    intervals = person.state_intervals.order_by("-started_at")[:30]
    skills = person.skills.select_related("queue")
    calls = (
        scoping.calls_visible_to(request.user)
        .filter(agent=person)
        .select_related("disposition", "customer")
        .order_by("-enqueued_at")[:20]
    )
    return render(
        request,
        "agents/person_detail.html",
        {"person": person, "intervals": intervals, "skills": skills, "calls": calls},
    )


@login_required
def team_board(request: HtmxHttpRequest) -> HttpResponse:
    """실장's live view of their team (the full board with approvals is a later issue)."""
    people = (
        scoping.people_visible_to(request.user)
        .filter(role=Role.AGENT)
        .select_related("status", "team")
    )
    teams = scoping.teams_visible_to(request.user)
    template = "agents/team_board.html#board" if request.htmx else "agents/team_board.html"
    return render(request, template, {"people": people, "teams": teams})


@login_required
def offer_alert(request: HtmxHttpRequest) -> HttpResponse:
    """Polled from every page but the desktop: a call ringing for this person (an offer or
    an escalation) must not go unnoticed while they read a ticket."""
    offer = selectors.pending_offer_for(request.user)
    return render(request, "agents/_offer_alert.html", {"offer": offer})
