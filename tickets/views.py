"""The ticket list and its saved searches, the customer search, and the public
case-status page. A ticket's and a customer's own pages list calls, so they are the
desk's (desk/views/tickets.py, desk/views/customers.py), on tickets' paths."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from callcenter.clients import client_ip
from callcenter.inputs import parse_id
from callcenter.pii import PiiBlocked
from callcenter.redirects import redirect_next
from tickets import selectors
from tickets.forms import SavedViewForm, StatusCodeForm, StatusLookupForm, TicketSearchForm
from tickets.models import SavedView, Ticket
from tickets.selectors import BUILTIN_VIEWS
from tickets.services.followups import followup_done as followup_mark_done
from tickets.services.saved_views import saved_view_save as saved_view_store
from tickets.services.status_checks import (
    RateLimited,
    status_check_start,
    status_check_verify,
)


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    return _ticket_list_page(request, request.GET.urlencode())


def _ticket_list_page(request, query: str, *, save_form=None, status: int = 200):
    """The list for `query` (a search's query string); `save_form` is a refused
    "save this search" form to show again."""
    form = TicketSearchForm(QueryDict(query) or None, person=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    tickets = selectors.ticket_search(request.user, filters)[:100]
    context = {
        "form": form,
        "tickets": tickets,
        "saved_views": SavedView.objects.filter(owner=request.user),
        "builtin_views": BUILTIN_VIEWS,
        "query": query,
        "save_form": save_form or SavedViewForm(),
    }
    full = save_form is not None or not request.htmx
    template = "tickets/ticket_list.html" if full else "tickets/ticket_list.html#results"
    return render(request, template, context, status=status)


@login_required
@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    query = request.POST.get("query", "")
    if form.is_valid():
        try:
            saved_view_store(
                owner=request.user,
                name=form.pii_raw["name"],
                query=query,
                pii_confirmed=form.pii_confirmed,
            )
        except PiiBlocked as exc:
            form.pii_refused(exc)
            return _ticket_list_page(request, query, save_form=form, status=422)
        except ValidationError as exc:
            return HttpResponseBadRequest(_errors(exc))
    elif form.pii_findings:
        return _ticket_list_page(request, query, save_form=form, status=422)
    else:
        return HttpResponseBadRequest(form.errors.as_text())
    return redirect(reverse("tickets:list") + "?" + query)


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    SavedView.objects.filter(pk=view_id, owner=request.user).delete()
    return redirect("tickets:list")


@login_required
@require_POST
def followup_done(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        followup_mark_done(actor=request.user, task_id=task_id)
    except ValidationError as exc:
        return HttpResponseBadRequest(_errors(exc))
    if request.htmx:
        return HttpResponse("")
    return redirect_next(request, "desk:desktop")


@login_required
def customer_search(request: HttpRequest) -> HttpResponse:
    """Search-and-link for the desktop's unknown caller (and anyone looking a customer up)."""
    q = request.GET.get("q", "")[:100]
    call_id = request.GET.get("call", "")
    customers = selectors.customer_search_for(request.user, q)
    return render(
        request,
        "tickets/_customer_search.html",
        {"customers": customers, "q": q, "call_id": parse_id(call_id) or ""},
    )


STATUS_SESSION_KEY = "case_status"
STATUS_VIEW_TTL = timedelta(minutes=15)


def status_lookup(request: HttpRequest) -> HttpResponse:
    """Public: the customer enters the case number and the phone on file; a code goes out
    by SMS if they match. The answer is the same whether they match or not."""
    form = StatusLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            check = status_check_start(
                ticket_number=form.cleaned_data["ticket_number"],
                phone=form.cleaned_data["phone"],
                client_ip=client_ip(request),
            )
        except RateLimited as exc:
            form.add_error(None, _errors(exc))
            return render(request, "tickets/status_page.html", {"form": form}, status=429)
        request.session[STATUS_SESSION_KEY] = {"check": check.pk}
        return redirect("case-status-verify")
    status = 400 if request.method == "POST" else 200
    return render(request, "tickets/status_page.html", {"form": form}, status=status)


def status_verify(request: HttpRequest) -> HttpResponse:
    state = request.session.get(STATUS_SESSION_KEY) or {}
    if not state.get("check"):
        return redirect("case-status")
    form = StatusCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = status_check_verify(check_id=state["check"], code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", _errors(exc))
            return render(request, "tickets/status_page.html", {"code_form": form}, status=400)
        # Seen for 15 minutes; the rest of the session (a staff login) is left alone.
        until = timezone.now() + STATUS_VIEW_TTL
        request.session[STATUS_SESSION_KEY] = {"ticket": ticket.pk, "until": until.isoformat()}
        return redirect("case-status-show")
    status = 400 if request.method == "POST" else 200
    return render(request, "tickets/status_page.html", {"code_form": form}, status=status)


def status_show(request: HttpRequest) -> HttpResponse:
    state = request.session.get(STATUS_SESSION_KEY) or {}
    until = parse_datetime(state.get("until") or "")
    if until is None or until <= timezone.now():
        request.session.pop(STATUS_SESSION_KEY, None)
        return redirect("case-status")
    ticket = Ticket.objects.filter(pk=state.get("ticket") or 0).select_related("category").first()
    if ticket is None:
        return redirect("case-status")
    return render(
        request,
        "tickets/status_page.html",
        {"case": ticket, "updates": selectors.public_updates(ticket)},
    )
