"""The desk's one write of its own: a whole wrap-up (후처리), put together from the lower
floors' services in one transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from agents.models import Person
from callcenter.pii import pii_guard
from telephony.models import Call
from telephony.selectors import call_own_numbers
from telephony.services.wrapup import wrapup_submit
from tickets.services.pii_detections import pii_detections_record
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
    pii_confirmed: bool = False,
    at: datetime | None = None,
) -> Call:
    """The agent's wrap-up, all or nothing: the note lands on a new or the chosen ticket,
    the call gets its disposition and is handled (its wrap-up ends), the agent moves to
    the state they asked for (Available by default), then the ticket takes the form's
    category, priority and follow-up call. A refusal anywhere (a follow-up in the past, a
    ticket out of reach) leaves the call in wrap-up, the agent in their state and no
    ticket written, so the agent corrects the form and submits again.

    `note`, `subject` and `followup_note` are as the agent wrote them: the PII guard looks
    at all three at once (PiiBlocked, with every finding, unless `pii_confirmed`), they are
    stored masked and each finding is logged for QA.

    Lock order, as every call action: the call, then its ticket, then the agent's status
    (telephony.services.wrapup.wrapup_submit); the ticket's details lock the ticket again,
    which this transaction already holds."""
    at = at or timezone.now()
    call = Call.objects.select_related("customer").filter(pk=call_id).first()
    guarded = pii_guard(
        {"note": note, "subject": subject, "followup_note": followup_note},
        confirmed=pii_confirmed,
        own_phone=call_own_numbers(call) if call is not None else (),
    )
    # The texts are masked now: wrapup_submit's own guard finds nothing more in them.
    call = wrapup_submit(
        agent=agent,
        call_id=call_id,
        disposition_id=disposition_id,
        note=guarded.texts["note"],
        ticket_id=ticket_id,
        subject=guarded.texts["subject"],
        resolve=resolve,
        pii_confirmed=True,
        at=at,
    )
    wrapup_ticket_details(
        agent=agent,
        ticket_id=call.ticket_id,
        category_id=category_id,
        priority=priority,
        followup_at=followup_at,
        followup_note=guarded.texts["followup_note"],
        at=at,
    )
    pii_detections_record(agent=agent, call=call, ticket=call.ticket, found=guarded.found(), at=at)
    return call
