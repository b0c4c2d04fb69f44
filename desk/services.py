"""The desk's one write of its own: a whole wrap-up (후처리), put together from the lower
floors' services in one transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from agents.models import Person
from telephony.models import Call
from telephony.services import wrapup_submit
from tickets.services.wrapups import wrapup_ticket_details


@transaction.atomic
def wrapup_complete(
    *,
    agent: Person,
    call_id: int,
    disposition_id: int,
    note: str,
    ticket_id: int | None = None,
    subject: str = "",
    resolve: bool = True,
    category_id: int | None = None,
    priority: str = "",
    followup_at: datetime | None = None,
    followup_note: str = "",
    pii_found: list[tuple[str, str, str]] | None = None,
    at: datetime | None = None,
) -> Call:
    """The agent's wrap-up, all or nothing: the note lands on a new or the chosen ticket,
    the call gets its disposition and is handled (its wrap-up ends), the agent moves to
    the state they asked for (Available by default), then the ticket takes the form's
    category, priority and follow-up call. A refusal anywhere (a follow-up in the past, a
    ticket out of reach) leaves the call in wrap-up, the agent in their state and no
    ticket written, so the agent corrects the form and submits again.

    Lock order, as every call action: the call, then its ticket, then the agent's status
    (telephony.services.wrapup_submit); the ticket's details lock the ticket again, which
    this transaction already holds."""
    call = wrapup_submit(
        agent=agent,
        call_id=call_id,
        disposition_id=disposition_id,
        note=note,
        ticket_id=ticket_id,
        subject=subject,
        resolve=resolve,
        pii_found=pii_found,
        at=at,
    )
    wrapup_ticket_details(
        agent=agent,
        ticket_id=call.ticket_id,
        category_id=category_id,
        priority=priority,
        followup_at=followup_at,
        followup_note=followup_note,
        at=at,
    )
    return call
