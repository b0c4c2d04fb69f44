"""Shared pieces of the telephony services: the audit-trail writer and sid lookup."""

from __future__ import annotations

import logging
from datetime import datetime

from agents.models import Person
from telephony.models import (
    Call,
    CallEvent,
    CallPhase,
)

logger = logging.getLogger(__name__)

LIVE_PHASES = {CallPhase.QUEUED, CallPhase.OFFERED, CallPhase.CONNECTED}


class UnknownNumberError(Exception):
    """The called number belongs to no department."""


def _event(
    call: Call, kind: str, at: datetime, *, actor: Person | None = None, dedupe_key=None, **data
) -> CallEvent:
    return CallEvent.objects.create(
        call=call, kind=kind, at=at, actor=actor, dedupe_key=dedupe_key, data=data
    )


def _dedupe_seen(key: str) -> bool:
    return CallEvent.objects.filter(dedupe_key=key).exists()


def call_for_sid(sid: str, *, lock: bool = False) -> Call | None:
    """The live segment of a Twilio call: the newest one (a transfer starts a new segment).
    A callback's outbound leg has its own sid and finds the call it serves."""
    qs = Call.objects.select_related("queue")
    if lock:
        qs = qs.select_for_update(of=("self",))
    call = qs.filter(sid=sid).order_by("-segment").first()
    if call is None:
        call = qs.filter(callback_sid=sid).order_by("-segment").first()
    return call
