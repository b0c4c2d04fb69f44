"""Telephony's reactions to events of lower floors (wired in callcenter.events.REACTIONS).
Thin: each asks a Celery worker to do the work, or calls one service."""

from __future__ import annotations

from callcenter.events import (
    AgentBecameAvailable,
    CustomerMerged,
    StatusCodeRequested,
    TicketMerged,
)
from telephony.services.customers import customer_merge_follow, ticket_merge_follow
from telephony.tasks import acd_route_soon, status_check_sms


def route_waiting_calls(event: AgentBecameAvailable) -> None:
    """An agent is free: route the waiting callers now rather than at the next sweep."""
    acd_route_soon()


def text_status_code(event: StatusCodeRequested) -> None:
    """Text the case-status page's one-time code from a worker (no provider call in the
    request)."""
    status_check_sms.delay(event.check_id, event.language)


def customer_merged(event: CustomerMerged) -> None:
    customer_merge_follow(source_id=event.source_id, target_id=event.target_id)


def ticket_merged(event: TicketMerged) -> None:
    ticket_merge_follow(source_id=event.source_id, target_id=event.target_id)
