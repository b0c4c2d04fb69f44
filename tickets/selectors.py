"""Reads about customers and tickets."""

from __future__ import annotations

from django.db.models import QuerySet

from agents.models import Person
from agents.scoping import tickets_visible_to
from tickets.models import Customer, Ticket


def customer_for_phone(phone: str) -> Customer | None:
    """The customer record for a caller's E.164 number (oldest wins on duplicates)."""
    return Customer.objects.filter(phone=phone).order_by("created_at", "id").first()


def customer_tickets_for(person: Person, customer: Customer) -> QuerySet[Ticket]:
    return tickets_visible_to(person).filter(customer=customer).order_by("-updated_at")
