"""Reads about customers and tickets."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from agents.models import Person
from agents.scoping import tickets_visible_to
from tickets.models import Customer, Ticket

OPEN_TICKET_STATUSES_EXCLUDED = ["resolved", "closed"]


def customer_for_phone(phone: str, *, with_open_ticket_flag: bool = False) -> Customer | None:
    """The customer record for a caller's E.164 number (oldest wins on duplicates).
    `with_open_ticket_flag` adds `has_open_ticket` in the same query (queue priority)."""
    qs = Customer.objects.filter(phone=phone).order_by("created_at", "id")
    if with_open_ticket_flag:
        open_tickets = Ticket.objects.filter(customer=OuterRef("pk")).exclude(
            status__in=OPEN_TICKET_STATUSES_EXCLUDED
        )
        qs = qs.annotate(has_open_ticket=Exists(open_tickets))
    return qs.first()


def customer_tickets_for(person: Person, customer: Customer) -> QuerySet[Ticket]:
    return tickets_visible_to(person).filter(customer=customer).order_by("-updated_at")
