"""The customer timeline: everything about a customer the person may see, newest first —
their calls, call-backs, texts and survey answers (telephony) beside their tickets, notes
and follow-ups (tickets). It reads both apps, so it is the desk's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agents.models import Person
from telephony.models import Survey
from telephony.selectors import calls_visible_to
from tickets.models import Customer, TicketNote
from tickets.selectors import tickets_visible_to


@dataclass
class TimelineItem:
    kind: str  # call | ticket | note | customer_note | callback | followup | sms | csat
    at: datetime
    obj: object


TIMELINE_KINDS = (
    "call",
    "callback",
    "ticket",
    "note",
    "customer_note",
    "followup",
    "sms",
    "csat",
)


def customer_timeline(
    person: Person, customer: Customer, *, kinds: set[str] | None = None, limit: int = 50
) -> list[TimelineItem]:
    """Everything about the customer the person may see, newest first."""
    kinds = set(kinds or TIMELINE_KINDS)
    items: list[TimelineItem] = []
    visible_tickets = tickets_visible_to(person).filter(customer=customer)
    if kinds & {"call", "callback"}:
        for call in (
            calls_visible_to(person)
            .filter(customer=customer)
            .select_related("agent", "disposition", "queue", "handover_to")
            .order_by("-enqueued_at")[:limit]
        ):
            kind = "callback" if call.callback_requested_at else "call"
            if kind in kinds:
                items.append(TimelineItem(kind, call.enqueued_at, call))
    if "ticket" in kinds:
        for ticket in visible_tickets.order_by("-created_at")[:limit]:
            items.append(TimelineItem("ticket", ticket.created_at, ticket))
    if "note" in kinds:
        for note in (
            TicketNote.objects.filter(ticket__in=visible_tickets)
            .select_related("author", "ticket")
            .order_by("-created_at")[:limit]
        ):
            items.append(TimelineItem("note", note.created_at, note))
    if "customer_note" in kinds:
        for note in customer.notes.select_related("author")[:limit]:
            items.append(TimelineItem("customer_note", note.created_at, note))
    if "followup" in kinds:
        for task in customer.followups.select_related("assignee")[:limit]:
            items.append(TimelineItem("followup", task.due_at, task))
    if "sms" in kinds:
        for sms in customer.sms_messages.all()[:limit]:
            items.append(TimelineItem("sms", sms.at, sms))
    if "csat" in kinds:
        # Survey answers, for the calls the person may see.
        for survey in (
            Survey.objects.filter(
                customer=customer,
                answered_at__isnull=False,
                # (the customer's own calls first: the viewer's rule alone may read every
                # call and offer, agent_id OR offered having no index path)
                call__in=calls_visible_to(person).filter(customer=customer),
            )
            .select_related("agent")
            .order_by("-answered_at")[:limit]
        ):
            items.append(TimelineItem("csat", survey.answered_at, survey))
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]
