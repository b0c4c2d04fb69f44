"""Customers: their records, numbers and notes, and the caller a call is linked to."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from callcenter.phones import phone_normalize
from callcenter.pii import pii_guard
from tickets.models import (
    Customer,
    CustomerNote,
    CustomerPhone,
    IdentifierView,
)
from tickets.selectors import customer_get_for, own_numbers
from tickets.services.history import _customer_event, _customer_shown
from tickets.services.pii_detections import pii_detections_record


def customer_create(*, phone: str, name: str = "", email: str = "") -> Customer:
    normalised = phone_normalize(phone)
    if normalised is None:
        raise ValidationError(_("That is not a phone number."))
    return Customer.objects.create(phone=normalised, name=name.strip(), email=email.strip())


CUSTOMER_FIELDS = ("name", "email", "is_vip")


@transaction.atomic
def customer_update(
    *,
    actor: Person,
    customer: Customer,
    changes: dict,
    at: datetime | None = None,
    pii_confirmed: bool = False,
) -> Customer:
    """Change only the fields in `changes` (name, email, is_vip); a field left out stays as
    it is, `email: ""` removes the address. Every change is in the customer's history (who,
    when, old → new). Nothing to change is an error, never a silent save. The name is
    free text as written: the PII guard reads it (`pii_confirmed`: store it masked)."""
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown customer field: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    if not changes:
        raise ValidationError(_("Nothing to change."))
    guarded = pii_guard(
        {"name": changes["name"] or ""} if "name" in changes else {},
        confirmed=pii_confirmed,
        own_phone=own_numbers(customer),
    )
    changes = {**changes, **guarded.texts}
    at = at or timezone.now()
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.merged_into_id:
        raise ValidationError(
            _("A merged customer cannot be changed; work on the customer it was merged into.")
        )
    changed = []
    for field in CUSTOMER_FIELDS:
        if field not in changes:
            continue
        new = changes[field]
        if field == "is_vip":
            new = bool(new)
        else:
            new = (new or "").strip()[: 100 if field == "name" else 254]
        old = getattr(customer, field)
        if old == new:
            continue
        _customer_event(
            customer,
            actor,
            "changed",
            at,
            field=field,
            old_value=_customer_shown(field, old),
            new_value=_customer_shown(field, new),
        )
        setattr(customer, field, new)
        changed.append(field)
    if changed:
        customer.save(update_fields=changed)
    pii_detections_record(agent=actor, call=None, ticket=None, found=guarded.found(), at=at)
    return customer


def customer_phone_add(
    *,
    actor: Person,
    customer: Customer,
    phone: str,
    label: str = "",
    pii_confirmed: bool = False,
) -> None:
    """Another number for the customer; the PII guard reads `label` as written."""
    normalised = phone_normalize(phone)
    if normalised is None:
        raise ValidationError(_("That is not a phone number."))
    if normalised == customer.phone or customer.phones.filter(number=normalised).exists():
        raise ValidationError(_("The customer already has this number."))
    guarded = pii_guard({"label": label}, confirmed=pii_confirmed, own_phone=own_numbers(customer))
    label = guarded.texts["label"]
    at = timezone.now()
    CustomerPhone.objects.create(customer=customer, number=normalised, label=label.strip()[:40])
    _customer_event(
        customer,
        actor,
        "phone_added",
        at,
        field="phone",
        new_value=_customer_shown("phone", normalised),
    )
    pii_detections_record(agent=actor, call=None, ticket=None, found=guarded.found(), at=at)


def customer_note_add(
    *,
    author: Person,
    customer: Customer,
    body: str,
    pii_confirmed: bool = False,
    at: datetime | None = None,
) -> CustomerNote:
    """A note about the customer; the PII guard reads `body` as written."""
    at = at or timezone.now()
    guarded = pii_guard({"body": body}, confirmed=pii_confirmed, own_phone=own_numbers(customer))
    body = guarded.texts["body"].strip()
    if not body:
        raise ValidationError(_("Write a note."))
    note = CustomerNote.objects.create(customer=customer, author=author, body=body, created_at=at)
    _customer_event(customer, author, "note_added", at)
    pii_detections_record(agent=author, call=None, ticket=None, found=guarded.found(), at=at)
    return note


def customer_identifier_reveal(*, viewer: Person, customer: Customer, field: str) -> str:
    """The unmasked identifier, and an audit row saying who looked at it and when."""
    if field not in {"phone", "email"}:
        raise ValidationError(_("Unknown identifier."))
    IdentifierView.objects.create(viewer=viewer, customer=customer, field=field, at=timezone.now())
    return getattr(customer, field)


def customer_for_call(
    *, agent: Person, from_number: str, customer_id: int | None, name: str = ""
) -> Customer:
    """Screen pop for an unknown caller (telephony.services.customers.call_customer_link):
    the customer found by search (which the agent may see), with the caller's number added,
    or a new customer for the caller's number."""
    if customer_id:
        customer = customer_get_for(agent, customer_id)
        number = phone_normalize(from_number)
        if (
            number
            and number != customer.phone
            and not customer.phones.filter(number=number).exists()
        ):
            CustomerPhone.objects.create(customer=customer, number=number, label="")
            _customer_event(
                customer,
                agent,
                "phone_added",
                timezone.now(),
                field="phone",
                new_value=_customer_shown("phone", number),
            )
        return customer
    number = phone_normalize(from_number) or from_number
    customer = Customer.objects.create(phone=number, name=name.strip()[:100])
    _customer_event(customer, agent, "created", timezone.now(), new_value=customer.name)
    return customer
