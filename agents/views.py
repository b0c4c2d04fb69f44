"""Pages for people: role homes, the org chart, the roster, people and team schedules."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_htmx.middleware import HtmxDetails

from agents import selectors
from agents.forms import (
    BreakSlotForm,
    PersonForm,
    RosterFilterForm,
    WorkingHoursForm,
)
from agents.models import Person, Role
from agents.reach import (
    people_visible_to,
    person_get_for,
    require,
    teams_visible_to,
)
from agents.roles import roles_assignable_by, roles_that
from agents.services.people import person_create, person_update
from agents.services.schedule import break_slot_add, break_slot_remove, working_hours_set
from agents.signin.services import password_reset_issue
from agents.targets.selectors import daily_call_targets_of_teams
from callcenter.inputs import parse_id


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    return redirect(selectors.home_url_name(request.user))


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
            person = person_create(by=request.user, **form.service_kwargs())
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
            person_update(by=request.user, person_id=person.pk, **form.service_kwargs())
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
                working_hours_set(
                    lead=request.user,
                    person_id=d["person"].pk,
                    weekdays=[int(x) for x in d["weekdays"]],
                    starts=d["starts"],
                    ends=d["ends"],
                )
                return redirect("agents:team-schedule")
            if "break-person" in request.POST and break_form.is_valid():
                d = break_form.cleaned_data
                break_slot_add(
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
                break_slot_remove(lead=request.user, slot_id=slot_id)
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
