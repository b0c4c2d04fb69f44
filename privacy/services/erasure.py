"""Erasure of one customer on request (개인정보 삭제 요청).

Personal data goes: the customer's name, numbers and e-mail, their notes, the text of their
tickets and wrap-up notes, the bodies of their text messages and survey replies, caller
numbers on their calls, voicemails and surveys, recordings (at the provider too), case-status
codes, and mentions of them in QA comments and the admin log. The rows stay, anonymised:
calls keep their times, agent, queue, disposition and customer id (FCR counts repeat
contacts of the same customer id), tickets their status and SLA, surveys their scores, QA
evaluations their scores, so rollups and QA figures are unchanged.

Customers merged into this one are erased with it (their history moved here). The erasure
is audited (CustomerErasure: who, when, which customer id, counts per kind; no personal
data). Running it again finds nothing left and records a run with zero counts; a recording
the provider refused to delete the first time is tried again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

import phonenumbers
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from agents.models import ApprovalRequest, Person
from privacy.markers import erased_marker
from privacy.models import CustomerErasure
from privacy.services.recordings import recordings_remove
from qa.models import Answer, Dispute, Evaluation, EvaluationComment, EvaluationEvent
from telephony.gateway import Gateway
from telephony.models import (
    Call,
    CallDirection,
    CallEvent,
    SimulatorMessage,
    SmsMessage,
    Survey,
    Voicemail,
)
from tickets.models import (
    Customer,
    CustomerEvent,
    CustomerNote,
    CustomerPhone,
    FollowUpTask,
    PiiDetection,
    StatusCheck,
    Ticket,
    TicketEvent,
    TicketNote,
)

# A name shorter than this is cleared on the customer row but not searched for inside other
# text (a single syllable would match unrelated words).
MIN_NAME_LENGTH = 2


def _customer_ids(customer_id: int) -> list[int]:
    """The customer and every record merged into it, at any depth."""
    ids = {customer_id}
    frontier = {customer_id}
    while frontier:
        frontier = (
            set(Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True))
            - ids
        )
        ids |= frontier
    return sorted(ids)


def phone_variants(number: str) -> set[str]:
    """The ways a stored number may be written: as stored, E.164, national digits, national
    and international formatted (010-1234-5678, +82 10-1234-5678)."""
    variants = {number}
    try:
        parsed = phonenumbers.parse(number, "KR")
    except phonenumbers.NumberParseException:
        return variants
    for fmt in (
        phonenumbers.PhoneNumberFormat.E164,
        phonenumbers.PhoneNumberFormat.NATIONAL,
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    ):
        variants.add(phonenumbers.format_number(parsed, fmt))
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    variants.add(re.sub(r"\D", "", national))
    return {v for v in variants if len(re.sub(r"\D", "", v)) >= 7}


class _Identifiers:
    """The customer's identifiers, and text with them replaced by the marker."""

    def __init__(self, customers: list[Customer], extra_numbers: Iterable[str], marker: str):
        self.marker = marker
        self.numbers: set[str] = set()
        for number in [*(c.phone for c in customers), *extra_numbers]:
            if number:
                self.numbers |= phone_variants(number)
        words = set(self.numbers)
        words |= {c.email for c in customers if c.email}
        words |= {c.name.strip() for c in customers if len(c.name.strip()) >= MIN_NAME_LENGTH}
        self.words = sorted(words, key=len, reverse=True)
        # Numbers and e-mail addresses name this customer alone; a name may be a namesake's.
        self.unique_words = sorted(
            self.numbers | {c.email for c in customers if c.email}, key=len, reverse=True
        )
        self._pattern = (
            re.compile("|".join(re.escape(w) for w in self.words), re.IGNORECASE)
            if self.words
            else None
        )

    def scrub(self, text: str) -> str:
        if not text or self._pattern is None:
            return text
        return self._pattern.sub(self.marker, text)

    def scrub_json(self, value):
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub_json(v) for k, v in value.items()}
        return value

    def text_q(self, field: str) -> Q:
        """Rows whose `field` mentions the customer's numbers or e-mail (table-wide searches
        use these only: a name alone could be a namesake's)."""
        q = Q(pk__in=[])
        for word in self.unique_words:
            q |= Q(**{f"{field}__icontains": word})
        return q


def _scrub_rows(qs, fields: list[str], ids: _Identifiers, *, json_fields=()) -> int:
    """Replaces identifiers inside `fields` of each row of `qs`; the number of rows changed."""
    changed = 0
    # The marker may be longer than what it replaces: stay within the column.
    limits = {name: qs.model._meta.get_field(name).max_length for name in fields}
    for row in qs.only("pk", *fields, *json_fields).iterator(chunk_size=500):
        updates = {}
        for name in fields:
            value = getattr(row, name)
            if value and (new := ids.scrub(value)) != value:
                updates[name] = new[: limits[name]] if limits[name] else new
        for name in json_fields:
            value = getattr(row, name)
            if value and (new := ids.scrub_json(value)) != value:
                updates[name] = new
        if updates:
            type(row).objects.filter(pk=row.pk).update(**updates)
            changed += 1
    return changed


def _replace_text(qs, field: str, marker: str) -> int:
    """Replaces the whole text of `field` (non-empty, not yet replaced) with the marker."""
    return qs.exclude(**{field: ""}).exclude(**{field: marker}).update(**{field: marker})


def customer_erase(
    *,
    customer_id: int,
    actor: Person | None,
    at: datetime | None = None,
    gateway: Gateway | None = None,
) -> CustomerErasure:
    """Erases the customer's personal data (module docstring); Customer.DoesNotExist if
    there is no such customer. Recordings are deleted at the provider first, one by one
    (a refusal keeps that row for the next run and is counted under `failed_recordings`),
    then everything else changes in one transaction with the audit row."""
    at = at or timezone.now()
    ids_list = _customer_ids(Customer.objects.only("pk").get(pk=customer_id).pk)
    customers = list(Customer.objects.filter(pk__in=ids_list))
    marker = erased_marker()
    extra = CustomerPhone.objects.filter(customer_id__in=ids_list).values_list("number", flat=True)
    ids = _Identifiers(customers, list(extra), marker)
    numbers = sorted(ids.numbers)

    calls = Call.objects.filter(
        Q(customer_id__in=ids_list)
        | Q(from_number__in=numbers)
        | Q(to_number__in=numbers)
        | Q(callback_number__in=numbers)
    )
    call_ids = list(calls.values_list("pk", flat=True))
    voicemails = Voicemail.objects.filter(
        Q(customer_id__in=ids_list) | Q(from_number__in=numbers) | Q(call_id__in=call_ids)
    )
    removed, failed = recordings_remove(
        calls=Call.objects.filter(pk__in=call_ids), voicemails=voicemails, gateway=gateway
    )
    with transaction.atomic():
        counts = _anonymise(ids_list, call_ids, voicemails, ids, numbers, marker)
        counts.update(removed)
        counts["failed_recordings"] = sum(failed.values())
        return CustomerErasure.objects.create(
            customer_id=customer_id, requested_by=actor, at=at, removed=counts
        )


def _anonymise(
    customer_ids: list[int],
    call_ids: list[int],
    voicemails,
    ids: _Identifiers,
    numbers: list[str],
    marker: str,
) -> dict[str, int]:
    counts: dict[str, int] = {}
    # Locks the customer rows: a concurrent edit waits, then finds them anonymised.
    customers = Customer.objects.select_for_update().filter(pk__in=customer_ids)
    counts["customers"] = customers.exclude(name="", phone="", email="").update(
        name="", phone="", email=""
    )
    counts["customer_phones"], _ = CustomerPhone.objects.filter(
        customer_id__in=customer_ids
    ).delete()
    # The customer's history: its values are the name, masked numbers and e-mail.
    history = CustomerEvent.objects.filter(customer_id__in=customer_ids)
    counts["customer_events"] = _replace_text(history, "old_value", marker)
    counts["customer_events"] += _replace_text(history, "new_value", marker)
    counts["customer_notes"] = _replace_text(
        CustomerNote.objects.filter(customer_id__in=customer_ids), "body", marker
    )
    counts["followups"] = _replace_text(
        FollowUpTask.objects.filter(customer_id__in=customer_ids), "note", marker
    )

    tickets = Ticket.objects.filter(customer_id__in=customer_ids)
    ticket_ids = list(tickets.values_list("pk", flat=True))
    counts["tickets"] = _replace_text(tickets, "subject", marker)
    counts["ticket_notes"] = _replace_text(
        TicketNote.objects.filter(Q(ticket_id__in=ticket_ids) | Q(call_id__in=call_ids)),
        "body",
        marker,
    )
    events = TicketEvent.objects.filter(ticket_id__in=ticket_ids)
    # The subject's history is free text: gone with the subject.
    subject_events = events.filter(Q(field="subject") | Q(kind="created"))
    counts["ticket_events"] = _replace_text(subject_events, "old_value", marker)
    counts["ticket_events"] += _replace_text(subject_events, "new_value", marker)
    counts["ticket_events"] += _scrub_rows(events, ["old_value", "new_value"], ids)
    counts["approval_requests"] = _replace_text(
        ApprovalRequest.objects.filter(ticket_id__in=ticket_ids), "reason", marker
    ) + _scrub_rows(
        ApprovalRequest.objects.filter(ticket_id__in=ticket_ids), ["decision_note"], ids
    )
    counts["pii_detections"] = _replace_text(
        PiiDetection.objects.filter(Q(ticket_id__in=ticket_ids) | Q(call_id__in=call_ids)),
        "masked",
        marker,
    )
    counts["status_checks"], _ = StatusCheck.objects.filter(
        Q(ticket_id__in=ticket_ids) | Q(phone__in=numbers)
    ).delete()

    calls = Call.objects.filter(pk__in=call_ids)
    caller = calls.filter(
        Q(from_number__in=numbers)
        | Q(customer_id__in=customer_ids, direction=CallDirection.INBOUND)
    ).exclude(from_number="")
    called = calls.filter(
        Q(to_number__in=numbers) | Q(customer_id__in=customer_ids, direction=CallDirection.OUTBOUND)
    ).exclude(to_number="")
    counts["calls"] = calls.filter(
        Q(pk__in=caller.values("pk")) | Q(pk__in=called.values("pk")) | ~Q(callback_number="")
    ).count()
    caller.update(from_number="")
    called.update(to_number="")
    calls.exclude(callback_number="").update(callback_number="")
    counts["call_events"] = _scrub_rows(
        CallEvent.objects.filter(call_id__in=call_ids).exclude(data={}),
        [],
        ids,
        json_fields=["data"],
    )
    counts["voicemails"] = voicemails.exclude(from_number="").update(from_number="")

    sms = SmsMessage.objects.filter(
        Q(customer_id__in=customer_ids) | Q(from_number__in=numbers) | Q(to_number__in=numbers)
    )
    sms_sids = list(sms.values_list("sid", flat=True))
    counts["sms"] = _replace_text(sms, "body", marker)
    sms.filter(from_number__in=numbers).update(from_number="")
    sms.filter(to_number__in=numbers).update(to_number="")

    surveys = Survey.objects.filter(
        Q(customer_id__in=customer_ids) | Q(phone__in=numbers) | Q(call_id__in=call_ids)
    )
    counts["survey_replies"] = _replace_text(surveys, "reply_text", marker)
    counts["surveys"] = surveys.exclude(phone="").update(phone="")

    call_sids = set(Call.objects.filter(pk__in=call_ids).values_list("sid", flat=True))
    call_sids |= set(
        Call.objects.filter(pk__in=call_ids)
        .exclude(callback_sid="")
        .values_list("callback_sid", flat=True)
    )
    as_text = Cast("data", TextField())
    sim = SimulatorMessage.objects.annotate(data_text=as_text).filter(
        Q(call_sid__in=[*call_sids, *sms_sids]) | ids.text_q("data_text")
    )
    counts["simulator_log"] = _scrub_rows(sim, [], ids, json_fields=["data"])

    # QA keeps its scores; comments about the call lose the customer's identifiers.
    evaluations = Evaluation.objects.filter(call_id__in=call_ids)
    counts["qa_texts"] = (
        _scrub_rows(evaluations, ["feedback"], ids)
        + _scrub_rows(EvaluationComment.objects.filter(evaluation__in=evaluations), ["body"], ids)
        + _scrub_rows(Answer.objects.filter(evaluation__in=evaluations), ["note"], ids)
        + _scrub_rows(
            EvaluationEvent.objects.filter(evaluation__in=evaluations),
            ["note"],
            ids,
            json_fields=["data"],
        )
        + _scrub_rows(
            Dispute.objects.filter(evaluation__in=evaluations), ["reason", "resolution"], ids
        )
    )

    # The admin's change log names objects by their str(): a customer's is their name.
    logged = LogEntry.objects.filter(
        Q(
            content_type=ContentType.objects.get_for_model(Customer),
            object_id__in=[str(i) for i in customer_ids],
        )
        | Q(
            content_type=ContentType.objects.get_for_model(Ticket),
            object_id__in=[str(i) for i in ticket_ids],
        )
    )
    counts["admin_log"] = _replace_text(logged, "object_repr", marker)
    mentions = LogEntry.objects.filter(ids.text_q("object_repr") | ids.text_q("change_message"))
    counts["admin_log"] += _scrub_rows(mentions, ["object_repr", "change_message"], ids)
    return counts


def erasures_snapshot() -> list[tuple[int, int | None]]:
    """(customer id, who asked) of every erasure recorded, oldest first: read before a
    restore replaces the database (privacy.services.backup)."""
    seen: dict[int, int | None] = {}
    for customer_id, actor_id in CustomerErasure.objects.order_by("at", "pk").values_list(
        "customer_id", "requested_by_id"
    ):
        seen.setdefault(customer_id, actor_id)
    return list(seen.items())


def erasures_reapply(erasures: list[tuple[int, int | None]]) -> list[int]:
    """After a restore: erases again each customer erased in the replaced database whose
    erasure the backup does not hold (it came after the backup, so their data is back).
    Returns the customer ids erased again."""
    again = []
    for customer_id, actor_id in erasures:
        if CustomerErasure.objects.filter(customer_id=customer_id).exists():
            continue
        if not Customer.objects.filter(pk=customer_id).exists():
            continue
        actor = Person.objects.filter(pk=actor_id).first() if actor_id else None
        customer_erase(customer_id=customer_id, actor=actor)
        again.append(customer_id)
    return again
