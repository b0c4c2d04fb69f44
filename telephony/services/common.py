"""Shared pieces of the telephony services: the audit-trail writer and sid lookup."""

from __future__ import annotations

import logging
from datetime import datetime

from agents.models import Person
from telephony.models import (
    Call,
    CallEvent,
    CallPhase,
    Queue,
)

logger = logging.getLogger(__name__)

LIVE_PHASES = {CallPhase.QUEUED, CallPhase.OFFERED, CallPhase.CONNECTED}


class UnknownNumberError(Exception):
    """The called number belongs to no department."""


class QueueFullError(Exception):
    """The queue already holds its maximum of callers on the line."""

    def __init__(self, queue: Queue) -> None:
        super().__init__(queue.name)
        self.queue = queue


def _event(
    call: Call,
    kind: str,
    at: datetime,
    *,
    actor: Person | None = None,
    actor_id: int | None = None,
    dedupe_key=None,
    **data,
) -> CallEvent:
    """A call's audit-trail row."""
    return CallEvent.objects.create(
        call=call,
        kind=kind,
        at=at,
        actor_id=actor.pk if actor is not None else actor_id,
        dedupe_key=dedupe_key,
        data=data,
    )


def _events_bulk(rows: list[tuple[int, str, int | None, dict]], *, at: datetime) -> None:
    """Many audit-trail rows (call id, kind, actor id, data) in one statement."""
    CallEvent.objects.bulk_create(
        [
            CallEvent(call_id=call_id, kind=kind, actor_id=actor_id, data=data, at=at)
            for call_id, kind, actor_id, data in rows
        ]
    )


def _dedupe_seen(key: str) -> bool:
    return CallEvent.objects.filter(dedupe_key=key).exists()


def call_for_sid(sid: str, *, lock: bool = False) -> Call | None:
    """The live segment of a Twilio call: the newest one (a transfer starts a new segment).
    A callback's outbound leg has its own sid and finds the call it serves."""
    qs = Call.objects.select_related("queue")
    if lock:
        qs = qs.select_for_update(of=("self",))
    # A call has one segment, or a few after transfers: read them all and choose here.
    # A cancelled warm transfer leaves a newer, finished segment: the live one still wins.
    # (The callback_sid lookup repeats the partial index's own condition so SQLite uses it.)
    segments = list(qs.filter(sid=sid)) or (
        list(qs.filter(callback_sid=sid).exclude(callback_sid="")) if sid else []
    )
    if not segments:
        return None
    return min(segments, key=lambda c: (c.phase not in LIVE_PHASES, -c.segment))
