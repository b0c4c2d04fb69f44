"""A customer's page and its actions (htmx): the page shows the customer timeline, calls
and surveys (telephony) beside tickets and notes, so it is the desk's. The paths and names
stay tickets' (tickets/urls.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from desk import timeline
from desk.timeline import TIMELINE_KINDS
from desk.views.tickets import refused_on_form
from tickets import selectors
from tickets.forms import (
    CustomerForm,
    CustomerMergeForm,
    CustomerNoteForm,
    PhoneAddForm,
    TicketCreateForm,
)
from tickets.selectors import customer_get_for, own_numbers
from tickets.services import customers as customer_services
from tickets.services import merges as merge_services
from tickets.services import tickets as ticket_services
from tickets.templatetags.phone import phone


def _customer_context(request, customer, **forms) -> dict:
    kinds = {k for k in request.GET.getlist("kind") if k in TIMELINE_KINDS}
    context = {
        "customer": customer,
        "phones": customer.phones.all(),
        "tickets": selectors.customer_tickets_for(request.user, customer).select_related(
            "department", "category"
        )[:20],
        "timeline": timeline.customer_timeline(request.user, customer, kinds=kinds or None),
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
            "timeline": timeline.customer_timeline(
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
            customer_services.customer_update(
                actor=request.user,
                customer=customer,
                changes=form.changes(),
                pii_confirmed=form.pii_confirmed,
            )
            return redirect("tickets:customer", customer.pk)
        except ValidationError as exc:
            refused_on_form(form, exc)
    return _customer_page(request, customer.pk, status=422, customer_form=form)


@login_required
@require_POST
def customer_phone_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_for(request.user, customer_id)
    form = PhoneAddForm(request.POST, own_phone=own_numbers(customer))
    if form.is_valid():
        try:
            customer_services.customer_phone_add(
                actor=request.user,
                customer=customer,
                phone=form.cleaned_data["phone"],
                label=form.pii_raw["label"],
                pii_confirmed=form.pii_confirmed,
            )
            return redirect("tickets:customer", customer.pk)
        except ValidationError as exc:
            refused_on_form(form, exc, "phone")
    return _customer_page(request, customer.pk, status=422, phone_form=form)


@login_required
@require_POST
def customer_note(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_for(request.user, customer_id)
    form = CustomerNoteForm(request.POST, own_phone=own_numbers(customer))
    if form.is_valid():
        try:
            customer_services.customer_note_add(
                author=request.user,
                customer=customer,
                body=form.pii_raw["body"],
                pii_confirmed=form.pii_confirmed,
            )
            return redirect("tickets:customer", customer.pk)
        except ValidationError as exc:
            refused_on_form(form, exc)
    return _customer_page(request, customer.pk, status=422, note_form=form)


@login_required
@require_POST
def customer_merge(request: HttpRequest, customer_id: int) -> HttpResponse:
    form = CustomerMergeForm(request.POST)
    if form.is_valid():
        try:
            target = merge_services.customer_merge(
                actor=request.user, source_id=customer_id, target_id=form.cleaned_data["target"]
            )
            return redirect("tickets:customer", target.pk)
        except ValidationError as exc:
            refused_on_form(form, exc)
    return _customer_page(request, customer_id, status=422, merge_form=form)


@login_required
@require_POST
def customer_reveal(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Show one unmasked identifier; the view is audited."""
    customer = customer_get_for(request.user, customer_id)
    field = request.POST.get("field", "")
    try:
        value = customer_services.customer_identifier_reveal(
            viewer=request.user, customer=customer, field=field
        )
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages))
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
            ticket = ticket_services.ticket_create(
                actor=request.user,
                customer=customer,
                subject=form.pii_raw["subject"],
                department_id=request.user.department_id,
                category_id=data["category"].pk if data["category"] else None,
                priority=data["priority"],
                severity=data["severity"],
                note=form.pii_raw["note"],
                pii_confirmed=form.pii_confirmed,
            )
            return redirect("tickets:detail", ticket.pk)
        except ValidationError as exc:
            refused_on_form(form, exc)
    return _customer_page(request, customer.pk, status=422, ticket_form=form)
