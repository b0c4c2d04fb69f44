"""The agent desktop: the page, its regions re-rendered only when what they show changed,
the wrap-up notice, the agent's state, and the ringing-call banner on other pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from agents.forms import StateForm
from agents.models import AgentState, NotReadyReason
from agents.services.states import agent_set_state
from desk import selectors
from desk.forms import WrapupForm
from telephony.models import IvrMenu
from telephony.selectors import pending_offer_for
from tickets.selectors import desk_help_for


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


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
        scripts, canned = desk_help_for(
            department_id=state.call.department_id, category_id=category.pk if category else None
        )
    entry = None
    if current is not None and current.direction == "inbound":
        # The path the caller came by: the voice menu's number (then the queue it chose),
        # or straight onto the department's number.
        entry = IvrMenu.objects.filter(phone_number=current.to_number).only("name").first()
    notice = _desk_notice(request, state)
    return {
        "desk": state,
        "current": current,
        "entry_menu": entry,
        "figures": selectors.today_figures_for(request.user),
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
    return render(request, "desk/desktop.html#panel", context, status=status)


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
        return render(request, "desk/desktop.html#poll-answer", context)
    return render(request, "desk/desktop.html", _desktop_context(request))


@login_required
@require_POST
def desk_notice_dismiss(request: HtmxHttpRequest) -> HttpResponse:
    request.session.pop(DESK_NOTICE, None)
    if request.htmx:
        return render_desktop_panel(request)
    return redirect("desk:desktop")


@login_required
@require_POST
def state_set(request: HtmxHttpRequest) -> HttpResponse:
    form = StateForm(request.POST)
    if not form.is_valid():
        return render_desktop_panel(request, error=form.errors.as_text(), status=400)
    try:
        agent_set_state(
            person=request.user,
            state=form.cleaned_data["state"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        return render_desktop_panel(request, error=" ".join(exc.messages), status=400)
    if request.htmx:
        return render_desktop_panel(request)
    return redirect("desk:desktop")


@login_required
def offer_alert(request: HtmxHttpRequest) -> HttpResponse:
    """Polled from every page but the desktop: a call ringing for this person (an offer or
    an escalation) must not go unnoticed while they read a ticket."""
    offer = pending_offer_for(request.user)
    return render(request, "desk/_offer_alert.html", {"offer": offer})
