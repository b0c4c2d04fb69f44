"""Pages for people: role homes, the agent desktop, the org chart, roster and team board."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from agents import selectors, services
from agents.forms import (
    ApprovalRequestForm,
    BreakSlotForm,
    DecisionForm,
    PersonForm,
    RosterFilterForm,
    StateForm,
    WorkingHoursForm,
)
from agents.models import AgentState, NotReadyReason, Person, Role
from agents.reach import (
    approval_requests_visible_to,
    people_visible_to,
    person_get_for,
    require,
    teams_visible_to,
)
from agents.roles import roles_assignable_by, roles_that
from agents.signin.services import password_reset_issue
from agents.targets.selectors import daily_call_target_for, daily_call_targets_of_teams
from callcenter.inputs import parse_id
from callcenter.redirects import redirect_next
from telephony.selectors import calls_visible_to
from tickets.forms import WrapupForm


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    return redirect(selectors.home_url_name(request.user))


DESK_NOTICE = "desk_notice"
# The desktop's regions, each re-rendered only when what it shows changed (desk_versions):
# a change of follow-ups or requests must not re-render the call and its open wrap-up form.
DESK_REGIONS = ("call", "side", "history")


def desk_notice_set(
    request: HttpRequest, *, call_id: int, ticket_id: int, ticket_number: str
) -> None:
    """After a wrap-up: the desk says which ticket it went to (the customer asks for the
    number) until the agent dismisses it or the next call comes."""
    request.session[DESK_NOTICE] = {"call": call_id, "ticket": ticket_id, "number": ticket_number}


def _desk_notice(request: HttpRequest, state: selectors.DesktopState) -> dict | None:
    notice = request.session.get(DESK_NOTICE)
    if notice and (state.offer or state.call):
        del request.session[DESK_NOTICE]  # the next call is here
        return None
    return notice


def _desktop_context(
    request: HtmxHttpRequest,
    *,
    error: str = "",
    wrapup_form=None,
    state: selectors.DesktopState | None = None,
) -> dict:
    """`state`: the desktop state this request already read (the poll's version check),
    so it is not read twice."""
    from tickets import selectors as ticket_selectors

    if state is None:
        state = selectors.desktop_state_for(request.user)
    if state.call and wrapup_form is None:
        # During the call its first fields are the notepad (상담 메모); after it, the wrap-up.
        wrapup_form = WrapupForm(call=state.call, person=request.user)
    current = state.call or (state.offer.call if state.offer else None)
    scripts, canned = [], []
    if state.call:
        category = None
        if wrapup_form is not None and wrapup_form.is_bound and wrapup_form.is_valid():
            category = wrapup_form.cleaned_data.get("category")
        scripts, canned = ticket_selectors.desk_help_for(
            department_id=state.call.department_id, category_id=category.pk if category else None
        )
    entry = None
    if current is not None and current.direction == "inbound":
        from telephony.models import IvrMenu

        # The path the caller came by: the voice menu's number (then the queue it chose),
        # or straight onto the department's number.
        entry = IvrMenu.objects.filter(phone_number=current.to_number).only("name").first()
    notice = _desk_notice(request, state)
    return {
        "desk": state,
        "current": current,
        "entry_menu": entry,
        "figures": ticket_selectors.today_figures_for(request.user),
        "followups": state.followups,
        "sla_alerts": state.sla_alerts,
        "schedule": selectors.schedule_today_for(request.user),
        "scripts": scripts,
        "canned": canned,
        "notice": notice,
        "desk_version": "~".join(desk_versions(state, notice).values()),
        "error": error,
        "wrapup_form": wrapup_form,
        "states": AgentState,
        "reasons": NotReadyReason.choices,
    }


def desk_versions(state: selectors.DesktopState, notice: dict | None) -> dict[str, str]:
    """Per region of the desktop, a version that changes whenever what it shows changes.
    A poll names the versions it has; only the regions whose version moved are sent, and
    none (204) when nothing did."""
    s, o, c = state.status, state.offer, state.call
    current = c or (o.call if o else None)

    def join(*parts) -> str:
        return "-".join(str(x) for x in parts)

    return {
        "call": join(
            s.state,
            s.escalations_only,
            o.pk if o else 0,
            c.pk if c else 0,
            c.phase if c else "",
            c.hold_started_at.timestamp() if c and c.hold_started_at else 0,
            c.customer_id if c else 0,
            c.handover if c else "",
            c.handover_to_id if c else 0,
            notice["call"] if notice else 0,
        ),
        "side": join(
            s.state,
            s.escalations_only,
            s.reason,
            s.requested_state,
            s.requested_reason,
            len(state.unfinished),
            state.handled_today,
            ",".join(f"{t.pk}{t.is_due:d}" for t in state.followups),
            ",".join(f"{t.pk}{t.sla_state}" for t in state.sla_alerts),
            ",".join(f"{r.pk}{r.status}" for r in state.requests),
        ),
        "history": join(
            current.pk if current else 0,
            current.customer_id if current else 0,
            len(state.history_calls),
            ",".join(f"{t.pk}{t.status}" for t in state.history_tickets),
        ),
    }


def render_desktop_panel(
    request: HtmxHttpRequest,
    *,
    error: str = "",
    wrapup_form=None,
    status: int = 200,
    state: selectors.DesktopState | None = None,
) -> HttpResponse:
    context = _desktop_context(request, error=error, wrapup_form=wrapup_form, state=state)
    return render(request, "agents/desktop.html#panel", context, status=status)


@login_required
def desktop(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx and request.GET.get("fragment") == "panel":
        # Polled every second by every agent: the state just read is the one rendered.
        state = selectors.desktop_state_for(request.user)
        seen = dict(zip(DESK_REGIONS, request.GET.get("v", "").split("~"), strict=False))
        versions = desk_versions(state, request.session.get(DESK_NOTICE))
        changed = [region for region in DESK_REGIONS if seen.get(region) != versions[region]]
        if not changed:
            return HttpResponse(status=204)
        context = _desktop_context(request, state=state)
        context["changed"] = changed
        return render(request, "agents/desktop.html#poll-answer", context)
    return render(request, "agents/desktop.html", _desktop_context(request))


@login_required
@require_POST
def desk_notice_dismiss(request: HtmxHttpRequest) -> HttpResponse:
    request.session.pop(DESK_NOTICE, None)
    if request.htmx:
        return render_desktop_panel(request)
    return redirect("agents:desktop")


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
    people = people_visible_to(request.user).select_related("status")
    teams = teams_visible_to(request.user).prefetch_related(
        Prefetch(
            "members", queryset=people.order_by("-role", "display_name"), to_attr="visible_members"
        )
    )
    departments = {}
    calls_targets = daily_call_targets_of_teams([t.pk for t in teams])
    for team in teams:
        team.daily_call_target = calls_targets.get(team.pk)
        departments.setdefault(team.department, []).append(team)
    leaders = people.filter(role__in=roles_that("lead_the_center")).prefetch_related(
        "managed_departments"
    )
    return render(
        request, "agents/org_chart.html", {"departments": departments, "leaders": leaders}
    )


@login_required
def roster(request: HtmxHttpRequest) -> HttpResponse:
    teams = teams_visible_to(request.user)
    form = RosterFilterForm(request.GET or None, teams=teams)
    filters = form.cleaned_data if form.is_valid() else {}
    people = selectors.roster_for(
        request.user,
        role=filters.get("role") or "",
        team_id=filters.get("team"),
        q=filters.get("q") or "",
    )
    template = "agents/roster.html#rows" if request.htmx else "agents/roster.html"
    editable_roles = roles_assignable_by(request.user)
    return render(
        request,
        template,
        {"form": form, "people": people, "editable_roles": editable_roles},
    )


def _person_editable_by(editor: Person, person_id: int) -> Person:
    """The person, if `editor` may edit them: 404 outside their reach, 403 for a role they
    may not give (a manager opening the director)."""
    person = person_get_for(editor, person_id)
    if person.role not in roles_assignable_by(editor):
        raise PermissionDenied
    return person


@login_required
def person_add(request: HtmxHttpRequest) -> HttpResponse:
    """The 센터장 (anyone in the center) or a 매니저 (their departments' teams) adds a person;
    they then hand over a one-time link to choose a password."""
    if not roles_assignable_by(request.user):
        raise PermissionDenied
    form = PersonForm(request.POST or None, editor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.person_create(by=request.user, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            return redirect("agents:person-signin-link", person.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "agents/person_form.html", {"form": form}, status=status)


@login_required
def person_edit(request: HtmxHttpRequest, person_id: int) -> HttpResponse:
    person = _person_editable_by(request.user, person_id)
    form = PersonForm(request.POST or None, editor=request.user, person=person)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(by=request.user, person_id=person.pk, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            return redirect("agents:roster")
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "person": person}
    return render(request, "agents/person_form.html", context, status=status)


@login_required
def person_signin_link(request: HtmxHttpRequest, person_id: int) -> HttpResponse:
    """A one-time link for the person to choose their password (agents.signin): issued on a
    POST, shown once on its answer and never stored. Issuing it for someone who has a
    password resets it and ends their sessions, which the page says."""
    person = _person_editable_by(request.user, person_id)
    link = ""
    if request.method == "POST":
        link = password_reset_issue(person=person, by=request.user)
    context = {"person": person, "link": link, "has_password": person.has_usable_password()}
    return render(request, "agents/person_signin_link.html", context)


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
        "agents/person_detail.html",
        {
            "person": person,
            "intervals": intervals,
            "skills": skills,
            "calls": calls,
            "daily_call_target": daily_call_target_for(person),
        },
    )


@login_required
def team_board(request: HtmxHttpRequest) -> HttpResponse:
    """실장's live view of their team: state and time in state, the live call, calls and
    AHT today; the escalations and approvals inbox."""
    context = _team_board_context(request)
    if request.htmx and request.GET.get("fragment") == "inbox":
        return render(request, "agents/team_board.html#inbox", context)
    template = "agents/team_board.html#board" if request.htmx else "agents/team_board.html"
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
                services.approval_request_create(requester=request.user, **data)
                return redirect("agents:requests")
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
        status = 422
    items = (
        approval_requests_visible_to(request.user)
        .select_related("requester", "ticket", "decided_by", "team")
        .order_by("-created_at")[:100]
    )
    return render(request, "agents/requests.html", {"form": form, "items": items}, status=status)


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
        template = "agents/team_board.html#inbox" if request.htmx else "agents/team_board.html"
        return render(request, template, context, status=422)
    try:
        services.approval_request_decide(
            decider=request.user,
            request_id=request_id,
            approve=form.cleaned_data["decision"] == "approve",
            note=form.cleaned_data["note"],
            pii_found=form.pii_found(),
        )
    except ValidationError as exc:
        if request.htmx:
            return HttpResponse(" ".join(exc.messages), status=409)
        return HttpResponseBadRequest(" ".join(exc.messages))
    if request.htmx:
        return team_board_inbox(request)
    return redirect_next(request, "agents:team-board")


def _team_board_context(request: HtmxHttpRequest) -> dict:
    return {
        "people": selectors.team_board_rows_for(request.user),
        "teams": teams_visible_to(request.user),
        **_inbox_context(request),
    }


TEAM_BOARD_SLA_ALERTS = 5


def _inbox_context(request: HtmxHttpRequest) -> dict:
    from tickets.selectors import sla_alert_counts, sla_alerts_for

    counts = sla_alert_counts(request.user)
    return {
        "pending": selectors.pending_requests_for(request.user),
        # The most urgent few; the counts link to the full filtered ticket list.
        "sla_alerts": list(sla_alerts_for(request.user, limit=TEAM_BOARD_SLA_ALERTS)),
        "sla_counts": counts,
        "sla_total": sum(counts.values()),
    }


def team_board_inbox(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "agents/team_board.html#inbox", _inbox_context(request))


@login_required
def team_schedule(request: HtmxHttpRequest) -> HttpResponse:
    """The 실장 sets working hours and breaks for their team's agents."""
    require(request.user, "supervise")
    agents = (
        people_visible_to(request.user)
        .filter(role=Role.AGENT)
        .prefetch_related("working_hours")
        .order_by("team_id", "display_name")
    )
    hours_form = WorkingHoursForm(request.POST or None, people=agents, prefix="hours")
    break_form = BreakSlotForm(request.POST or None, people=agents, prefix="break")
    status = 200
    if request.method == "POST":
        status = 422
        try:
            if "hours-person" in request.POST and hours_form.is_valid():
                d = hours_form.cleaned_data
                services.working_hours_set(
                    lead=request.user,
                    person_id=d["person"].pk,
                    weekdays=[int(x) for x in d["weekdays"]],
                    starts=d["starts"],
                    ends=d["ends"],
                )
                return redirect("agents:team-schedule")
            if "break-person" in request.POST and break_form.is_valid():
                d = break_form.cleaned_data
                services.break_slot_add(
                    lead=request.user,
                    person_id=d["person"].pk,
                    starts_at=d["starts_at"],
                    minutes=d["minutes"],
                    reason=d["reason"],
                )
                return redirect("agents:team-schedule")
            if "remove-break" in request.POST:
                slot_id = parse_id(request.POST["remove-break"])
                if slot_id is None:
                    return HttpResponseBadRequest(_("Choose the break to remove."))
                services.break_slot_remove(lead=request.user, slot_id=slot_id)
                return redirect("agents:team-schedule")
        except ValidationError as exc:
            (hours_form if "hours-person" in request.POST else break_form).add_error(
                None, " ".join(exc.messages)
            )
    breaks = selectors.upcoming_breaks_for(request.user)
    return render(
        request,
        "agents/team_schedule.html",
        {"agents": agents, "hours_form": hours_form, "break_form": break_form, "breaks": breaks},
        status=status,
    )


@login_required
def offer_alert(request: HtmxHttpRequest) -> HttpResponse:
    """Polled from every page but the desktop: a call ringing for this person (an offer or
    an escalation) must not go unnoticed while they read a ticket."""
    offer = selectors.pending_offer_for(request.user)
    return render(request, "agents/_offer_alert.html", {"offer": offer})
