"""Telephony's reactions to events of lower floors (wired in callcenter.events.REACTIONS).
Thin: each asks a Celery worker to do the work."""

from __future__ import annotations

from callcenter.events import AgentBecameAvailable, StatusCodeRequested
from telephony.tasks import acd_route_soon, status_check_sms


def route_waiting_calls(event: AgentBecameAvailable) -> None:
    """An agent is free: route the waiting callers now rather than at the next sweep."""
    acd_route_soon()


def text_status_code(event: StatusCodeRequested) -> None:
    """Text the case-status page's one-time code from a worker (no provider call in the
    request)."""
    status_check_sms.delay(event.check_id, event.language)
