"""Shared pieces of the telephony services: the audit-trail writer and sid lookup."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from agents.models import Person
from callcenter.precompiled import PrecompiledBulkInsert, PrecompiledInsert, PreparedInsert
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


_insert_event = PrecompiledInsert(CallEvent)
_insert_events = PrecompiledBulkInsert(CallEvent, ["call", "kind", "actor", "data", "at"])


def _event(call: Call, kind: str, at: datetime, **fields) -> CallEvent:
    """A call's audit-trail row, with its live-tally hook (fields: as _event_row's)."""
    return _event_prepared(call, kind, at, **fields)()


def _event_prepared(call: Call, kind: str, at: datetime, **fields) -> Callable[[], CallEvent]:
    """_event in two halves (callcenter.precompiled.PrecompiledInsert.prepare): everything
    but the INSERT now, the INSERT when called, inside the caller's transaction. `call`
    may be a call not inserted yet, as long as it is by then."""
    from telephony.tallies import tallies_call_changed

    prepared = _event_row(call, kind, at, **fields)

    def insert() -> CallEvent:
        event = prepared()
        tallies_call_changed(call.pk, event.pk)  # live tallies, refreshed after the commit
        return event

    return insert


def _event_row(
    call: Call,
    kind: str,
    at: datetime,
    *,
    actor: Person | None = None,
    actor_id: int | None = None,
    dedupe_key=None,
    **data,
) -> PreparedInsert:
    """The event row alone, without the live-tally hook: the caller refreshes the tallies
    itself (telephony.tallies.tallies_call_written)."""
    return _insert_event.prepare(
        call=call,
        kind=kind,
        at=at,
        actor_id=actor.pk if actor is not None else actor_id,
        dedupe_key=dedupe_key,
        data=data,
    )


def _events_bulk(rows: list[tuple[int, str, int | None, dict]], *, at: datetime) -> None:
    """Many audit-trail rows (call id, kind, actor id, data) in one statement, with the
    same live-tally hook as _event."""
    from telephony.tallies import tallies_call_changed

    ids = _insert_events.insert([(*row, at) for row in rows])
    for (call_id, *_rest), event_id in zip(rows, ids, strict=True):
        tallies_call_changed(call_id, event_id)


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
