"""A ticket's page and its actions (htmx): the page lists the ticket's calls (telephony)
beside its notes, events and follow-ups, so it is the desk's. The paths and names stay
tickets' (tickets/urls.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from callcenter.pii import PiiBlocked
from telephony.selectors import calls_visible_to
from tickets.forms import (
    EscalateForm,
    FollowUpForm,
    NoteForm,
    TicketMergeForm,
    TicketUpdateForm,
)
from tickets.selectors import own_numbers, ticket_get_for
from tickets.services import followups as followup_services
from tickets.services import merges as merge_services
from tickets.services import tickets as ticket_services


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def refused_on_form(form, exc: ValidationError, field=None) -> None:
    """A service's refusal on the form: the PII guard's findings listed as the form's own
    check lists them, any other reason as an error."""
    if isinstance(exc, PiiBlocked):
        form.pii_refused(exc)
    else:
        form.add_error(field, _errors(exc))


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
            ticket_services.ticket_update(
                actor=request.user,
                ticket_id=ticket.pk,
                changes=form.changes(),
                pii_confirmed=form.pii_confirmed,
            )
            return redirect("tickets:detail", ticket.pk)
        except ValidationError as exc:
            refused_on_form(form, exc)
    return _ticket_page(request, ticket.pk, status=422, update_form=form)


@login_required
@require_POST
def ticket_note(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_get_for(request.user, ticket_id)
    form = NoteForm(request.POST, own_phone=own_numbers(ticket.customer))
    if form.is_valid():
        data = form.cleaned_data
        try:
            ticket_services.ticket_note_add(
                actor=request.user,
                ticket=ticket,
                body=form.pii_raw["body"],
                parent_id=data["parent"],
                is_public=data["is_public"],
                status=data["status"],
                pii_confirmed=form.pii_confirmed,
            )
            return redirect(reverse("tickets:detail", args=[ticket.pk]) + "#notes")
        except ValidationError as exc:
            refused_on_form(form, exc)
    return _ticket_page(request, ticket.pk, status=422, note_form=form)


@login_required
@require_POST
def ticket_escalate(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_get_for(request.user, ticket_id)
    form = EscalateForm(request.POST, own_phone=own_numbers(ticket.customer))
    if form.is_valid():
        try:
            ticket_services.ticket_escalate(
                actor=request.user,
                ticket_id=ticket_id,
                reason=form.pii_raw["reason"],
                pii_confirmed=form.pii_confirmed,
            )
            return redirect("tickets:detail", ticket_id)
        except ValidationError as exc:
            refused_on_form(form, exc)
    return _ticket_page(request, ticket_id, status=422, escalate_form=form)


@login_required
@require_POST
def ticket_merge(request: HttpRequest, ticket_id: int) -> HttpResponse:
    form = TicketMergeForm(request.POST)
    if form.is_valid():
        try:
            target = merge_services.ticket_merge(
                actor=request.user, source_id=ticket_id, target_id=form.cleaned_data["target"]
            )
            return redirect("tickets:detail", target.pk)
        except ValidationError as exc:
            refused_on_form(form, exc)
    return _ticket_page(request, ticket_id, status=422, merge_form=form)


@login_required
@require_POST
def ticket_followup(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_get_for(request.user, ticket_id)
    form = FollowUpForm(request.POST, own_phone=own_numbers(ticket.customer))
    if form.is_valid():
        try:
            followup_services.followup_create(
                actor=request.user,
                customer=ticket.customer,
                ticket=ticket,
                due_at=form.cleaned_data["due_at"],
                note=form.pii_raw["note"],
                pii_confirmed=form.pii_confirmed,
            )
            return redirect("tickets:detail", ticket.pk)
        except ValidationError as exc:
            refused_on_form(form, exc)
    return _ticket_page(request, ticket.pk, status=422, followup_form=form)
