"""Reads about customers and tickets."""

from __future__ import annotations

from typing import NamedTuple

from django.db.models import Exists, OuterRef, QuerySet

from agents.models import Person
from agents.scoping import tickets_visible_to
from callcenter.precompiled import Precompiled
from tickets.models import Customer, Ticket

OPEN_TICKET_STATUSES_EXCLUDED = ["resolved", "closed"]


def _customers_with_phone(phone: str) -> QuerySet[Customer]:
    return Customer.objects.filter(phone=phone).order_by("created_at", "id")


def _open_tickets() -> QuerySet[Ticket]:
    return Ticket.objects.filter(customer=OuterRef("pk")).exclude(
        status__in=OPEN_TICKET_STATUSES_EXCLUDED
    )


def customer_for_phone(phone: str, *, with_open_ticket_flag: bool = False) -> Customer | None:
    """The customer record for a caller's E.164 number (oldest wins on duplicates).
    `with_open_ticket_flag` adds `has_open_ticket` in the same query (queue priority)."""
    qs = _customers_with_phone(phone)
    if with_open_ticket_flag:
        qs = qs.annotate(has_open_ticket=Exists(_open_tickets()))
    return qs.first()


class CallerMatch(NamedTuple):
    customer_id: int
    is_vip: bool
    has_open_ticket: bool


_caller_match = Precompiled(
    lambda phone: (
        _customers_with_phone(phone)
        .annotate(has_open_ticket=Exists(_open_tickets()))
        .values_list("id", "is_vip", "has_open_ticket")[:1]
    ),
    str,
)


def caller_match(phone: str) -> CallerMatch | None:
    """What queueing needs to know about a caller (customer_for_phone's rule), for every
    incoming call: one statement, compiled once per process."""
    row = _caller_match.first(phone)
    if row is None:
        return None
    return CallerMatch(row[0], bool(row[1]), bool(row[2]))


def customer_tickets_for(person: Person, customer: Customer) -> QuerySet[Ticket]:
    return tickets_visible_to(person).filter(customer=customer).order_by("-updated_at")
