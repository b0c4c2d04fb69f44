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


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A customer's page: their tickets and calls as far as the viewer may see them, and
    the click-to-call button for follow-ups."""
    from agents.scoping import calls_visible_to, customer_get_for
    from tickets.selectors import customer_tickets_for

    customer = customer_get_for(request.user, customer_id)
    tickets = customer_tickets_for(request.user, customer).select_related("department")[:20]
    calls = (
        calls_visible_to(request.user)
        .filter(customer=customer)
        .select_related("agent", "disposition")
        .order_by("-enqueued_at")[:20]
    )
    return render(
        request,
        "tickets/customer_detail.html",
        {"customer": customer, "tickets": tickets, "calls": calls},
    )
