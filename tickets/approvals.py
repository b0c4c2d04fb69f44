"""A request to the 실장, whole: the request row (agents), the ticket it escalates, and the
log of what the PII guard masked in its text (tickets). Put together here, on the floor
that sees both, so the org chart below imports nothing about tickets."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from agents.models import ApprovalRequest, Person, RequestKind
from agents.services.approvals import approval_request_record, approval_request_record_decision
from callcenter.pii import pii_guard
from tickets.models import Ticket
from tickets.selectors import own_numbers
from tickets.services.pii_detections import pii_detections_record
from tickets.services.tickets import ticket_escalation_decided


@transaction.atomic
def approval_request_create(
    *,
    requester: Person,
    kind: str,
    reason: str,
    ticket: Ticket | None = None,
    amount: int | None = None,
    break_start: datetime | None = None,
    break_minutes: int | None = None,
    pii_confirmed: bool = False,
    at: datetime | None = None,
) -> ApprovalRequest:
    """An agent asks their 실장: an escalation, a refund or exception, a break. `reason` is
    free text as written: the PII guard reads it (`pii_confirmed`: store it masked), and
    what it masked is logged for QA."""
    at = at or timezone.now()
    guarded = pii_guard(
        {"reason": reason},
        confirmed=pii_confirmed,
        own_phone=own_numbers(ticket.customer) if ticket is not None else "",
    )
    reason = guarded.texts["reason"]
    request = approval_request_record(
        requester=requester,
        kind=kind,
        reason=reason,
        ticket=ticket,
        amount=amount,
        break_start=break_start,
        break_minutes=break_minutes,
        at=at,
    )
    pii_detections_record(agent=requester, call=None, ticket=ticket, found=guarded.found(), at=at)
    return request


@transaction.atomic
def approval_request_decide(
    *,
    decider: Person,
    request_id: int,
    approve: bool,
    note: str = "",
    pii_confirmed: bool = False,
    at: datetime | None = None,
) -> ApprovalRequest:
    """The 실장 (or someone above them) approves or denies. An approved escalation hands the
    ticket to the decider; an approved break becomes a scheduled break. `note` is free text
    as written: the PII guard reads it (`pii_confirmed`: store it masked). One transaction:
    an escalation the ticket can no longer take (merged, closed) undoes the decision."""
    at = at or timezone.now()
    guarded = pii_guard({"note": note}, confirmed=pii_confirmed)
    note = guarded.texts["note"]
    request = approval_request_record_decision(
        decider=decider, request_id=request_id, approve=approve, note=note, at=at
    )
    pii_detections_record(
        agent=decider, call=None, ticket=request.ticket, found=guarded.found(), at=at
    )
    if request.kind == RequestKind.ESCALATION and request.ticket_id:
        ticket_escalation_decided(request=request, lead=decider, approved=approve, at=at)
    return request
