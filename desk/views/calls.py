"""The agent's and team lead's call actions on the desk (htmx): each answers with the refreshed
desktop panel, or the reason it was refused."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
)
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from callcenter.inputs import parse_id
from callcenter.pii import PiiBlocked, pii_list
from desk.forms import CallNotepadForm, WrapupForm
from desk.services import wrapup_complete
from desk.views.desktop import desk_notice_set, render_desktop_panel
from telephony.forms import TransferForm
from telephony.models import Call
from telephony.services import bridging, calls, monitoring, outbound, transfers, wrapup
from telephony.services.customers import call_customer_link as customer_link
from telephony.templatetags.bridging import monitor_controls


def _panel_or_error(request: HttpRequest, action) -> HttpResponse:
    """Run one agent action and answer with the refreshed desktop panel (htmx) or the
    desktop page; a refused action re-renders the panel with the reason."""
    try:
        action()
    except ValidationError as exc:
        return render_desktop_panel(request, error=" ".join(exc.messages), status=409)
    except PermissionDenied:
        return render_desktop_panel(request, error=_("This is not your call."), status=403)
    if not request.htmx:
        return redirect("desk:desktop")
    return render_desktop_panel(request)


@login_required
@require_POST
def offer_accept(request: HttpRequest, offer_id: int) -> HttpResponse:
    return _panel_or_error(
        request, lambda: calls.offer_accept(agent=request.user, offer_id=offer_id)
    )


@login_required
@require_POST
def call_hangup(request: HttpRequest, call_id: int) -> HttpResponse:
    return _panel_or_error(request, lambda: calls.call_hangup(agent=request.user, call_id=call_id))


@login_required
@require_POST
def wrapup_submit(request: HttpRequest, call_id: int) -> HttpResponse:
    call = get_object_or_404(
        Call.objects.select_related("department", "customer"), pk=call_id, agent=request.user
    )
    form = WrapupForm(request.POST, call=call, person=request.user)
    if not form.is_valid():
        return render_desktop_panel(request, wrapup_form=form, status=422)
    data, raw = form.cleaned_data, form.pii_raw
    try:
        call = wrapup_complete(
            agent=request.user,
            call_id=call.pk,
            disposition_id=data["disposition"].pk,
            note=raw["note"],
            ticket_id=int(data["ticket"]) if data["ticket"] else None,
            subject=raw["subject"],
            resolve=data["resolve"],
            category_id=data["category"].pk if data["category"] else None,
            priority=data["priority"],
            followup_at=data["followup_at"],
            followup_note=raw["followup_note"],
            pii_confirmed=form.pii_confirmed,
        )
    except PiiBlocked as exc:
        form.pii_refused(exc)
        return render_desktop_panel(request, wrapup_form=form, status=422)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return render_desktop_panel(request, wrapup_form=form, status=422)
    desk_notice_set(
        request, call_id=call.pk, ticket_id=call.ticket.pk, ticket_number=call.ticket.number
    )
    return render_desktop_panel(request)


@login_required
@require_POST
def call_notepad(request: HttpRequest, call_id: int) -> HttpResponse:
    """상담 메모, saved as the agent types during the call: answers with the notepad's status
    line (saved at, and what the PII guard masked)."""
    call = get_object_or_404(
        Call.objects.select_related("customer"), pk=call_id, agent=request.user
    )
    form = CallNotepadForm(request.POST, call=call)
    page = "desk/_notepad_status.html"
    if not form.is_valid():
        return render(request, page, {"form": form}, status=422)
    data = form.cleaned_data
    try:
        wrapup.call_notepad_save(
            agent=request.user,
            call_id=call.pk,
            note=form.pii_raw["note"],
            disposition_id=data["disposition"].pk if data["disposition"] else None,
            pii_confirmed=form.pii_confirmed,
        )
    except ValidationError as exc:
        return render(request, page, {"form": form, "error": " ".join(exc.messages)}, status=409)
    if not request.htmx:
        return redirect("desk:desktop")
    return render(request, page, {"form": form, "saved_at": timezone.now()})


@login_required
@require_POST
def call_dial_out(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Click-to-call from a customer's or a ticket's page: the call rings the customer and
    the agent follows it on their desktop. Busy agent → 409 with the reason."""
    ticket = request.POST.get("ticket", "")
    if ticket and not (ticket.isascii() and ticket.isdigit()):
        return HttpResponseBadRequest("ticket must be an id")
    try:
        outbound.call_dial_out(
            agent=request.user, customer_id=customer_id, ticket_id=int(ticket) if ticket else None
        )
    except ValidationError as exc:
        status = 409 if isinstance(exc, outbound.AgentBusyError) else 422
        page = "desk/dial_error.html"
        template = f"{page}#result" if request.htmx else page
        return render(request, template, {"error": " ".join(exc.messages)}, status=status)
    if request.htmx:
        return HttpResponseClientRedirect(reverse("desk:desktop"))
    return redirect("desk:desktop")


@login_required
@require_POST
def call_hold(request: HttpRequest, call_id: int) -> HttpResponse:
    return _panel_or_error(request, lambda: bridging.call_hold(agent=request.user, call_id=call_id))


@login_required
@require_POST
def call_resume(request: HttpRequest, call_id: int) -> HttpResponse:
    return _panel_or_error(
        request, lambda: bridging.call_resume(agent=request.user, call_id=call_id)
    )


@login_required
@require_POST
def call_transfer(request: HttpRequest, call_id: int) -> HttpResponse:
    form = TransferForm(request.POST)
    if not form.is_valid():
        return render_desktop_panel(request, error=" ".join(form.non_field_errors()), status=400)
    data = form.cleaned_data
    return _panel_or_error(
        request,
        lambda: transfers.call_transfer(
            agent=request.user,
            call_id=call_id,
            to_agent_id=data["to_agent"],
            to_queue_id=data["to_queue"],
            warm=data["warm"],
        ),
    )


@login_required
@require_POST
def call_escalate(request: HttpRequest, call_id: int) -> HttpResponse:
    """실장 연결: hand over at once, or (warm=1) talk to the 실장 first."""
    warm = request.POST.get("warm", "")
    if warm not in {"", "0", "1"}:
        return render_desktop_panel(request, error=_("warm must be 0 or 1."), status=400)
    return _panel_or_error(
        request,
        lambda: transfers.call_escalate(agent=request.user, call_id=call_id, warm=warm == "1"),
    )


@login_required
@require_POST
def escalations_only(request: HttpRequest) -> HttpResponse:
    """A 실장's "실장 연결만 받기" on their desk (on=1) or off (on=0)."""
    on = request.POST.get("on", "")
    if on not in {"0", "1"}:
        return render_desktop_panel(request, error=_("on must be 0 or 1."), status=400)
    try:
        bridging.lead_escalations_only(lead=request.user, on=on == "1")
    except PermissionDenied:
        return render_desktop_panel(
            request, error=_("Only a team lead takes escalations."), status=403
        )
    if not request.htmx:
        return redirect("desk:desktop")
    return render_desktop_panel(request)


@login_required
@require_POST
def transfer_complete(request: HttpRequest, call_id: int) -> HttpResponse:
    return _panel_or_error(
        request, lambda: transfers.transfer_complete(agent=request.user, call_id=call_id)
    )


@login_required
@require_POST
def transfer_cancel(request: HttpRequest, call_id: int) -> HttpResponse:
    return _panel_or_error(
        request, lambda: transfers.transfer_cancel(agent=request.user, call_id=call_id)
    )


@login_required
@require_POST
def call_monitor(request: HttpRequest, call_id: int) -> HttpResponse:
    """A team lead listens, whispers, barges in or stops, from the team board; answers
    with that call's listening controls (with the reason when refused)."""
    mode = request.POST.get("mode", "listen")
    status, error = 200, ""
    try:
        if mode == "stop":
            call = monitoring.call_monitor_stop(lead=request.user, call_id=call_id)
        else:
            call = monitoring.call_monitor(lead=request.user, call_id=call_id, mode=mode)
    except ValidationError as exc:
        status, error = 400, " ".join(exc.messages)
    except PermissionDenied:
        if not request.htmx:
            return HttpResponseForbidden(_("You may not listen to this call."))
        status, error = 403, _("You may not listen to this call.")
    if not request.htmx:
        if status != 200:
            return HttpResponseBadRequest(error, content_type="text/plain")
        return redirect("desk:team-board")
    if status == 403:
        return HttpResponse(error, status=403, content_type="text/plain")
    if status != 200:
        call = get_object_or_404(Call, pk=call_id)  # visible: PermissionDenied came first
    context = monitor_controls({"request": request}, call, error)
    context["csrf_token"] = get_token(request)
    return render(request, "telephony/_monitor_controls.html", context, status=status)


@login_required
@require_POST
def call_customer_link(request: HttpRequest, call_id: int) -> HttpResponse:
    """Screen pop: link the caller to a found customer, or create one with a name."""
    raw = request.POST.get("customer", "")
    if raw and parse_id(raw) is None:
        return HttpResponseBadRequest(_("Choose a customer from the list."))
    try:
        customer_link(
            agent=request.user,
            call_id=call_id,
            customer_id=parse_id(raw),
            name=request.POST.get("name", ""),
            pii_confirmed=request.POST.get("pii_action") == "mask",
        )
    except PiiBlocked as exc:
        # The new customer's name is free text: an identifier in it is refused with what
        # was found (the quick-create box on the desk is edited, not confirmed).
        found = ", ".join(f"{f['kind']} {f['masked']}" for f in pii_list(exc.findings))
        error = _("Personal data in the name (%(found)s): write the name only.") % {"found": found}
        return render_desktop_panel(request, error=error, status=422)
    except ValidationError as exc:
        return render_desktop_panel(request, error=" ".join(exc.messages), status=409)
    if request.htmx:
        return render_desktop_panel(request)
    return redirect("desk:desktop")
