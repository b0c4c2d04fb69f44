"""Telephony's side of the customer record (tickets): what follows a merge, and the screen
pop linking a live call to a customer."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agents.models import Person
from callcenter.pii import pii_guard
from telephony.models import Call, SmsMessage, Voicemail
from tickets.models import Customer
from tickets.services.customers import customer_for_call


@transaction.atomic
def customer_merge_follow(*, source_id: int, target_id: int) -> None:
    """After a customer merge (callcenter.events.CustomerMerged): the duplicate's calls,
    texts and voicemails move to the customer it was merged into."""
    for model in (Call, SmsMessage, Voicemail):
        model.objects.filter(customer_id=source_id).update(customer_id=target_id)


def ticket_merge_follow(*, source_id: int, target_id: int) -> None:
    """After a ticket merge (callcenter.events.TicketMerged): the duplicate's calls move to
    the ticket it was merged into."""
    Call.objects.filter(ticket_id=source_id).update(ticket_id=target_id)


def merges_follow_sweep() -> int:
    """The safety net under CustomerMerged/TicketMerged: a reaction lost after a merge
    committed (a worker gone at the wrong moment) leaves calls, texts or voicemails on the
    duplicate; the periodic sweep moves whatever still points at a merged record. Returns how
    many rows moved."""
    moved = 0
    for model in (Call, SmsMessage, Voicemail):
        stale = model.objects.filter(customer__merged_into__isnull=False)
        for source_id, target_id in (
            stale.values_list("customer_id", "customer__merged_into_id").distinct().iterator()
        ):
            moved += model.objects.filter(customer_id=source_id).update(customer_id=target_id)
    stale_calls = Call.objects.filter(ticket__merged_into__isnull=False)
    for source_id, target_id in (
        stale_calls.values_list("ticket_id", "ticket__merged_into_id").distinct().iterator()
    ):
        moved += Call.objects.filter(ticket_id=source_id).update(ticket_id=target_id)
    return moved


@transaction.atomic
def call_customer_link(
    *,
    agent: Person,
    call_id: int,
    customer_id: int | None,
    name: str = "",
    pii_confirmed: bool = False,
) -> Customer:
    """Screen pop for an unknown caller: link the agent's live call to a customer found by
    search (which the agent may see; the caller's number is added to them), or to a new
    customer for the caller's number. The new customer's `name` is as the agent typed it:
    an identifier in it raises PiiBlocked unless `pii_confirmed` (then it is stored
    masked)."""
    guarded = pii_guard({"name": name}, confirmed=pii_confirmed)
    call = Call.objects.filter(pk=call_id, agent=agent).first()
    if call is None:
        raise ValidationError(_("This is not your call."))
    customer = customer_for_call(
        agent=agent,
        from_number=call.from_number,
        customer_id=customer_id,
        name=guarded.texts["name"],
    )
    Call.objects.filter(pk=call.pk).update(customer=customer)
    return customer
