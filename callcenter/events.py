"""Cross-app side effects as small typed events, and the one table of who reacts to them.

A service on a lower floor that must make an upper floor act (route the waiting callers once
an agent is free, refill the KPI rollups once a call is handled, text a one-time code) emits
an event; after its transaction commits, the reactions named in REACTIONS run, each on its
own: one that fails is logged and the others still run, and the caller never sees the error.
A rolled-back transaction emits nothing. Events carry ids only, so a reaction reads the rows
as committed. The reactions are named by dotted path and imported when they run, so this
module imports no app above it. Reactions are thin: most enqueue a Celery task, and the
periodic sweeps still catch up whatever a lost reaction missed. No model signals.

Anchors: Saleor's order actions (`transaction.on_commit(lambda: manager.order_cancelled(...))`)
and Sentry's one `receivers.py` per app; here it is one table for the house.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Something that happened, committed. Subclasses hold ids (and plain values) only."""


@dataclass(frozen=True)
class AgentBecameAvailable(Event):
    """The agent chose Available (agents.services.states.agent_set_state)."""

    agent_id: int


@dataclass(frozen=True)
class CallHandled(Event):
    """An agent's work on a call is done: wrap-up submitted or timed out."""

    agent_id: int


@dataclass(frozen=True)
class StatusCodeRequested(Event):
    """A customer asked the case-status page for a one-time code (tickets.StatusCheck)."""

    check_id: int
    language: str | None = None


@dataclass(frozen=True)
class CustomerMerged(Event):
    """A duplicate customer was folded into another (tickets.services.customer_merge): what
    upper floors keep about the duplicate (calls, texts, voicemails) follows it."""

    source_id: int
    target_id: int


@dataclass(frozen=True)
class TicketMerged(Event):
    """A duplicate ticket was merged into another (tickets.services.ticket_merge): the calls
    recorded on the duplicate follow it."""

    source_id: int
    target_id: int


# Who reacts to what: dotted paths of functions taking the event, in the order they run.
REACTIONS: dict[type[Event], list[str]] = {
    AgentBecameAvailable: ["telephony.reactions.route_waiting_calls"],
    CallHandled: ["kpi.reactions.fill_rollups_soon"],
    StatusCodeRequested: ["telephony.reactions.text_status_code"],
    CustomerMerged: ["telephony.reactions.customer_merged"],
    TicketMerged: ["telephony.reactions.ticket_merged"],
}


def reactions_to(event_type: type[Event]) -> list[Callable[[Event], object]]:
    return [import_string(path) for path in REACTIONS.get(event_type, ())]


def emit(event: Event) -> None:
    """Run the event's reactions once the current transaction commits (right away outside
    one); nothing runs if it rolls back."""
    transaction.on_commit(lambda: react(event))


def react(event: Event) -> None:
    """Run every reaction to `event`; a failing one is logged and does not stop the rest."""
    for path in REACTIONS.get(type(event), ()):
        try:
            import_string(path)(event)
        except Exception:
            logger.exception("reaction %s to %r failed", path, event)
