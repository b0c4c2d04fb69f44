"""Messages customers leave: voicemails (recorded by the IVR or a full queue) and incoming
text messages (SMS). Both are idempotent per the provider's sid, since Twilio retries."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Department, Person
from callcenter.phones import phone_normalize
from callcenter.pii import pii_redact
from telephony.models import IvrMenu, SmsMessage, Voicemail
from telephony.services.common import call_for_sid
from tickets.selectors import customer_for_phone
from tickets.services.customers import customer_create, customer_identifier_reveal


def _normalise(number: str) -> str:
    return (phone_normalize(number) or number) if number else ""


def _customer(phone: str):
    return customer_for_phone(phone) if phone else None


def department_for_number(number: str) -> Department | None:
    """The department a dialled/texted number belongs to: its own number, or the default
    queue of the root IVR menu on that number (대표번호)."""
    department = Department.objects.filter(phone_number=number).first()
    if department is not None:
        return department
    menu = (
        IvrMenu.objects.select_related("default_queue__department")
        .filter(phone_number=number)
        .first()
    )
    return menu.default_queue.department if menu and menu.default_queue else None


@transaction.atomic
def voicemail_record(
    *,
    call_sid: str,
    recording_sid: str,
    reason: str,
    from_number: str = "",
    department_id: int | None = None,
    url: str = "",
    status: str = "",
    duration: int | None = None,
    at: datetime | None = None,
) -> Voicemail:
    """The Record action or the recording status callback, in either order and any number
    of times: one Voicemail per RecordingSid, filled in as details arrive. A completed
    recording never goes back to another status."""
    at = at or timezone.now()
    caller = _normalise(from_number)
    call = call_for_sid(call_sid)
    voicemail = Voicemail.objects.select_for_update().filter(recording_sid=recording_sid).first()
    if voicemail is None:
        caller = caller or (call.from_number if call else "")
        try:
            with transaction.atomic():
                return Voicemail.objects.create(
                    call_sid=call_sid,
                    call=call,
                    department_id=department_id or (call.department_id if call else None),
                    customer=(call.customer if call and call.customer_id else _customer(caller)),
                    from_number=caller,
                    reason=reason,
                    recording_sid=recording_sid,
                    recording_url=url,
                    recording_status=status,
                    duration_seconds=duration if duration is not None and duration >= 0 else None,
                    received_at=at,
                )
        except IntegrityError:
            # The other callback about the same recording won the race.
            voicemail = Voicemail.objects.select_for_update().get(recording_sid=recording_sid)
    changed: list[str] = []

    def put(name: str, value) -> None:
        if getattr(voicemail, name) != value:
            setattr(voicemail, name, value)
            changed.append(name)

    if url:
        put("recording_url", url)
    if status and not (voicemail.recording_status == "completed" and status != "completed"):
        put("recording_status", status)
    if duration is not None and duration >= 0:
        put("duration_seconds", duration)
    if caller and not voicemail.from_number:
        put("from_number", caller)
        if voicemail.customer_id is None:
            put("customer", _customer(caller))
    if department_id and voicemail.department_id is None:
        put("department_id", department_id)
    if call and voicemail.call_id is None:
        put("call", call)
    if changed:
        voicemail.save(update_fields=changed)
    return voicemail


@transaction.atomic
def voicemail_caller_reveal(*, viewer: Person, voicemail_id: int) -> str:
    """The caller's whole number, so someone of the department can call back: audited like
    the customer page's Show (an unmasked identifier view of the caller's customer record).
    A caller the center did not know yet gets that record now, as the wrap-up of a call from
    an unknown number does. PermissionDenied outside the viewer's scope."""
    from telephony.selectors import voicemails_visible_to

    voicemail = (
        voicemails_visible_to(viewer)
        .select_for_update(of=("self",))
        .select_related("customer")
        .filter(pk=voicemail_id)
        .first()
    )
    if voicemail is None:
        raise PermissionDenied
    if not voicemail.from_number:
        raise ValidationError(_("The caller's number is unknown."))
    if voicemail.customer_id is None:
        voicemail.customer = _customer(voicemail.from_number) or customer_create(
            phone=voicemail.from_number
        )
        voicemail.save(update_fields=["customer"])
    customer_identifier_reveal(viewer=viewer, customer=voicemail.customer, field="phone")
    return voicemail.from_number


@transaction.atomic
def voicemail_mark_handled(
    *, person: Person, voicemail_id: int, at: datetime | None = None
) -> Voicemail:
    """Someone of the department dealt with the message (called back, noted it). Marking
    twice keeps the first handler. Raises PermissionDenied outside the person's scope."""
    from telephony.selectors import voicemails_visible_to

    voicemail = (
        voicemails_visible_to(person)
        .select_for_update(of=("self",))
        .filter(pk=voicemail_id)
        .first()
    )
    if voicemail is None:
        raise PermissionDenied
    if voicemail.handled_at is None:
        voicemail.handled_at = at or timezone.now()
        voicemail.handled_by = person
        voicemail.save(update_fields=["handled_at", "handled_by"])
    return voicemail


def sms_receive(
    *, sid: str, from_number: str, to_number: str, body: str, at: datetime | None = None
) -> SmsMessage:
    """An incoming text message. Idempotent per MessageSid: a retry returns the same row.
    The body is stored with identifiers masked (a customer texting their resident
    registration number back): it comes from outside, so no agent is there to choose."""
    existing = SmsMessage.objects.filter(sid=sid).first()
    if existing is not None:
        return existing
    sender = _normalise(from_number)
    called = _normalise(to_number)
    try:
        with transaction.atomic():
            return SmsMessage.objects.create(
                sid=sid,
                direction="inbound",
                from_number=sender,
                to_number=called,
                body=pii_redact(body, own_phone=sender or ""),
                customer=_customer(sender),
                department=department_for_number(called),
                at=at or timezone.now(),
            )
    except IntegrityError:
        return SmsMessage.objects.get(sid=sid)
