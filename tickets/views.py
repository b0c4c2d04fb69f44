from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agents.scoping import ticket_get_for, tickets_visible_to


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    tickets = (
        tickets_visible_to(request.user)
        .select_related("customer", "assignee", "department")
        .order_by("-updated_at")[:100]
    )
    return render(request, "tickets/ticket_list.html", {"tickets": tickets})


@login_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_get_for(request.user, ticket_id)
    notes = ticket.notes.select_related("author", "call")
    events = ticket.events.select_related("actor")
    return render(
        request, "tickets/ticket_detail.html", {"ticket": ticket, "notes": notes, "events": events}
    )
