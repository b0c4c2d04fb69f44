"""What the QA services share: the evaluation's history rows and the PII guard on the free
text people write about a call."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from agents.models import Person
from callcenter.pii import Guarded, pii_guard
from qa.models import Evaluation, EvaluationEvent
from telephony.models import Call
from tickets.forms import own_numbers
from tickets.services.pii_detections import pii_detections_record


def _event(
    evaluation: Evaluation,
    kind: str,
    actor: Person | None,
    at: datetime,
    *,
    before: float | None = None,
    after: float | None = None,
    note: str = "",
    data: dict | None = None,
) -> None:
    EvaluationEvent.objects.create(
        evaluation=evaluation,
        actor=actor,
        kind=kind,
        score_before=before,
        score_after=after,
        note=note,
        data=data or {},
        at=at,
    )


def _pii_guard(call: Call | None, texts: Mapping[str, str], *, confirmed: bool) -> Guarded:
    """The PII guard on free text about a call (callcenter.pii.pii_guard): raises PiiBlocked
    when something is found and the writer has not confirmed; the caller's own numbers (on
    record, and the one they called from) are not findings."""
    own = call_own_numbers(call) if call is not None else set()
    return pii_guard(texts, confirmed=confirmed, own_phone=own)


def call_own_numbers(call: Call) -> set[str]:
    """The caller's numbers: writing them down about this call is not a leak."""
    return own_numbers(call.customer) | {call.from_number}


def _pii_record(actor: Person, call: Call | None, found, at: datetime) -> None:
    """What the PII guard masked in a QA text (kind and masked form only), for the count."""
    pii_detections_record(agent=actor, call=call, ticket=None, found=list(found), at=at)
