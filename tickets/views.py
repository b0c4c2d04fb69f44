"""Ticket and customer pages (htmx), and the public case-status page."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from callcenter.clients import client_ip
from callcenter.inputs import parse_id
from callcenter.redirects import redirect_next
from telephony.selectors import calls_visible_to
from tickets import selectors, services
from tickets.forms import (
    CustomerForm,
    CustomerMergeForm,
    CustomerNoteForm,
    EscalateForm,
    FollowUpForm,
    NoteForm,
    PhoneAddForm,
    SavedViewForm,
    StatusCodeForm,
    StatusLookupForm,
    TicketCreateForm,
    TicketMergeForm,
    TicketSearchForm,
    TicketUpdateForm,
    own_numbers,
)
from tickets.models import SavedView
from tickets.selectors import BUILTIN_VIEWS, TIMELINE_KINDS, customer_get_for, ticket_get_for


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- tickets -----------------------------------------------------------------------------


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
            services.saved_view_save(
                owner=request.user,
                name=form.cleaned_data["name"],
                query=query,
                pii_found=form.pii_found(),
            )
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


def _ticket_context(request, ticket, **forms) -> dict:
    notes = list(ticket.notes.select_related("author", "call"))
    roots = [n for n in notes if n.parent_id is None]
    replies: dict[int, list] = {}
    for n in notes:
        if n.parent_id:
            replies.setdefault(n.parent_id, []).append(n)
    for n in roots:
        n.thread = replies.get(n.pk, [])
    pending = ticket.approval_requests.filter(status="pending").select_related("requester")
    context = {
        "ticket": ticket,
        "notes": roots,
        "events": ticket.events.select_related("actor"),
        "calls": calls_visible_to(request.user)
        .filter(ticket=ticket)
        .select_related("agent", "disposition", "handover_to")
        .order_by("-enqueued_at")[:20],
        "followups": ticket.followups.filter(done_at__isnull=True).select_related("assignee"),
        "pending_requests": pending,
        "update_form": TicketUpdateForm(
            initial={
                "subject": ticket.subject,
                "status": ticket.status,
                "category": ticket.category_id,
                "priority": ticket.priority,
                "severity": ticket.severity,
                "assignee": ticket.assignee_id,
            },
            ticket=ticket,
            person=request.user,
        ),
        "note_form": NoteForm(own_phone=own_numbers(ticket.customer)),
        "escalate_form": EscalateForm(own_phone=own_numbers(ticket.customer)),
        "merge_form": TicketMergeForm(),
        "followup_form": FollowUpForm(),
    }
    context.update(forms)
    return context


def _ticket_page(request, ticket_id: int, status: int = 200, **forms) -> HttpResponse:
    ticket = ticket_get_for(request.user, ticket_id)
    return render(
        request,
        "tickets/ticket_detail.html",
        _ticket_context(request, ticket, **forms),
        status=status,
    )


@login_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _ticket_page(request, ticket_id)


@login_required
@require_POST
def ticket_update(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_get_for(request.user, ticket_id)
    form = TicketUpdateForm(request.POST, ticket=ticket, person=request.user)
    if form.is_valid():
        try:
            services.ticket_update(
                actor=request.user,
                ticket_id=ticket.pk,
                changes=form.changes(),
                pii_found=form.pii_found(),
            )
            return redirect("tickets:detail", ticket.pk)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
    return _ticket_page(request, ticket.pk, status=422, update_form=form)


@login_required
@require_POST
def ticket_note(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_get_for(request.user, ticket_id)
    form = NoteForm(request.POST, own_phone=own_numbers(ticket.customer))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.ticket_note_add(
                actor=request.user,
                ticket=ticket,
                body=data["body"],
                parent_id=data["parent"],
                is_public=data["is_public"],
                status=data["status"],
                pii_found=form.pii_found(),
            )
            return redirect(reverse("tickets:detail", args=[ticket.pk]) + "#notes")
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
    return _ticket_page(request, ticket.pk, status=422, note_form=form)


@login_required
@require_POST
def ticket_escalate(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_get_for(request.user, ticket_id)
    form = EscalateForm(request.POST, own_phone=own_numbers(ticket.customer))
    if form.is_valid():
        try:
            services.ticket_escalate(
                actor=request.user,
                ticket_id=ticket_id,
                reason=form.cleaned_data["reason"],
                pii_found=form.pii_found(),
            )
            return redirect("tickets:detail", ticket_id)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
    return _ticket_page(request, ticket_id, status=422, escalate_form=form)


@login_required
@require_POST
def ticket_merge(request: HttpRequest, ticket_id: int) -> HttpResponse:
    form = TicketMergeForm(request.POST)
    if form.is_valid():
        try:
            target = services.ticket_merge(
                actor=request.user, source_id=ticket_id, target_id=form.cleaned_data["target"]
            )
            return redirect("tickets:detail", target.pk)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
    return _ticket_page(request, ticket_id, status=422, merge_form=form)


@login_required
@require_POST
def ticket_followup(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_get_for(request.user, ticket_id)
    form = FollowUpForm(request.POST, own_phone=own_numbers(ticket.customer))
    if form.is_valid():
        try:
            services.followup_create(
                actor=request.user,
                customer=ticket.customer,
                ticket=ticket,
                due_at=form.cleaned_data["due_at"],
                note=form.cleaned_data["note"],
                pii_found=form.pii_found(),
            )
            return redirect("tickets:detail", ticket.pk)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
    return _ticket_page(request, ticket.pk, status=422, followup_form=form)


@login_required
@require_POST
def followup_done(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        services.followup_done(actor=request.user, task_id=task_id)
    except ValidationError as exc:
        return HttpResponseBadRequest(_errors(exc))
    if request.htmx:
        return HttpResponse("")
    return redirect_next(request, "desk:desktop")


# --- customers ---------------------------------------------------------------------------


def _customer_context(request, customer, **forms) -> dict:
    kinds = {k for k in request.GET.getlist("kind") if k in TIMELINE_KINDS}
    context = {
        "customer": customer,
        "phones": customer.phones.all(),
        "tickets": selectors.customer_tickets_for(request.user, customer).select_related(
            "department", "category"
        )[:20],
        "timeline": selectors.customer_timeline(request.user, customer, kinds=kinds or None),
        "timeline_kinds": TIMELINE_KINDS,
        "kinds": kinds,
        "customer_form": CustomerForm(
            initial={"name": customer.name, "is_vip": customer.is_vip}, customer=customer
        ),
        "customer_events": selectors.customer_events_for(customer)[:50],
        "phone_form": PhoneAddForm(),
        "note_form": CustomerNoteForm(own_phone=own_numbers(customer)),
        "merge_form": CustomerMergeForm(),
        "ticket_form": None,
    }
    if request.user.team_id:
        context["ticket_form"] = TicketCreateForm(
            customer=customer, department_id=request.user.department_id
        )
    context.update(forms)
    return context


def _customer_page(request, customer_id: int, status: int = 200, **forms) -> HttpResponse:
    customer = customer_get_for(request.user, customer_id)
    if customer.merged_into_id and not forms:
        return redirect("tickets:customer", customer.merged_into_id)
    return render(
        request,
        "tickets/customer_detail.html",
        _customer_context(request, customer, **forms),
        status=status,
    )


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A customer's page: phones, timeline (filterable), tickets, notes, merge."""
    return _customer_page(request, customer_id)


@login_required
def customer_timeline(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_for(request.user, customer_id)
    kinds = {k for k in request.GET.getlist("kind") if k in TIMELINE_KINDS}
    return render(
        request,
        "tickets/_timeline.html",
        {
            "customer": customer,
            "timeline": selectors.customer_timeline(
                request.user, customer, kinds=kinds or None, limit=30
            ),
            "timeline_kinds": TIMELINE_KINDS,
            "kinds": kinds,
            "compact": request.GET.get("compact") == "1",
        },
    )


@login_required
@require_POST
def customer_update(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_for(request.user, customer_id)
    form = CustomerForm(request.POST, customer=customer, own_phone=own_numbers(customer))
    if form.is_valid():
        try:
            services.customer_update(
                actor=request.user,
                customer=customer,
                changes=form.changes(),
                pii_found=form.pii_found(),
            )
            return redirect("tickets:customer", customer.pk)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
    return _customer_page(request, customer.pk, status=422, customer_form=form)


@login_required
@require_POST
def customer_phone_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_for(request.user, customer_id)
    form = PhoneAddForm(request.POST, own_phone=own_numbers(customer))
    if form.is_valid():
        try:
            services.customer_phone_add(
                actor=request.user,
                customer=customer,
                phone=form.cleaned_data["phone"],
                label=form.cleaned_data["label"],
                pii_found=form.pii_found(),
            )
            return redirect("tickets:customer", customer.pk)
        except ValidationError as exc:
            form.add_error("phone", _errors(exc))
    return _customer_page(request, customer.pk, status=422, phone_form=form)


@login_required
@require_POST
def customer_note(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_for(request.user, customer_id)
    form = CustomerNoteForm(request.POST, own_phone=own_numbers(customer))
    if form.is_valid():
        try:
            services.customer_note_add(
                author=request.user,
                customer=customer,
                body=form.cleaned_data["body"],
                pii_found=form.pii_found(),
            )
            return redirect("tickets:customer", customer.pk)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
    return _customer_page(request, customer.pk, status=422, note_form=form)


@login_required
@require_POST
def customer_merge(request: HttpRequest, customer_id: int) -> HttpResponse:
    form = CustomerMergeForm(request.POST)
    if form.is_valid():
        try:
            target = services.customer_merge(
                actor=request.user, source_id=customer_id, target_id=form.cleaned_data["target"]
            )
            return redirect("tickets:customer", target.pk)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
    return _customer_page(request, customer_id, status=422, merge_form=form)


@login_required
@require_POST
def customer_reveal(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Show one unmasked identifier; the view is audited."""
    from tickets.templatetags.phone import phone

    customer = customer_get_for(request.user, customer_id)
    field = request.POST.get("field", "")
    try:
        value = services.customer_identifier_reveal(
            viewer=request.user, customer=customer, field=field
        )
    except ValidationError as exc:
        return HttpResponseBadRequest(_errors(exc))
    shown = phone(value) if field == "phone" else value
    return HttpResponse(format_html('<span class="mono revealed">{}</span>', shown or "–"))


@login_required
@require_POST
def customer_ticket_create(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_for(request.user, customer_id)
    if not request.user.team_id:
        return HttpResponseBadRequest(_("Only people in a team create tickets here."))
    form = TicketCreateForm(
        request.POST, customer=customer, department_id=request.user.department_id
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                actor=request.user,
                customer=customer,
                subject=data["subject"],
                department_id=request.user.department_id,
                category_id=data["category"].pk if data["category"] else None,
                priority=data["priority"],
                severity=data["severity"],
                note=data["note"],
                pii_found=form.pii_found(),
            )
            return redirect("tickets:detail", ticket.pk)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
    return _customer_page(request, customer.pk, status=422, ticket_form=form)


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


# --- the public case-status page -----------------------------------------------------------

STATUS_SESSION_KEY = "case_status"
STATUS_VIEW_TTL = timedelta(minutes=15)


def status_lookup(request: HttpRequest) -> HttpResponse:
    """Public: the customer enters the case number and the phone on file; a code goes out
    by SMS if they match. The answer is the same whether they match or not."""
    form = StatusLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            check = services.status_check_start(
                ticket_number=form.cleaned_data["ticket_number"],
                phone=form.cleaned_data["phone"],
                client_ip=client_ip(request),
            )
        except services.RateLimited as exc:
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
            ticket = services.status_check_verify(
                check_id=state["check"], code=form.cleaned_data["code"]
            )
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
    from tickets.models import Ticket

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
