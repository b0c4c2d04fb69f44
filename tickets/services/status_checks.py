"""The public case-status page: a customer checks their case with a one-time code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callcenter.dispatch import dispatch_allowed
from callcenter.events import StatusCodeRequested, emit
from callcenter.phones import phone_normalize
from tickets.models import (
    CustomerPhone,
    StatusCheck,
    Ticket,
    TicketStatus,
)

STATUS_CODE_TTL = timedelta(minutes=10)


STATUS_CODE_ATTEMPTS = 5


STATUS_CHECKS_PER_IP_HOUR = 10


STATUS_CHECKS_PER_TICKET_HOUR = 3


class RateLimited(ValidationError):
    pass


def _code_hash(check_id: int, code: str) -> str:

    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{check_id}:{code}".encode(), hashlib.sha256).hexdigest()


# Full-width forms (a Korean IME types ２７１ and Ｔ－) → ASCII; dashes of any kind → "-".
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63"), "-")


def _ticket_key(number: str) -> str:
    """The case number in one canonical form, the key of the per-case limit: T-000271,
    t-271, 271, 0000000271, ２７１ and Ｔ－０００２７１ are all "271". Only ASCII (or
    full-width) digits make a case number: anything else (², ①, Arabic-Indic or other
    digits, letters) keeps a key of its own and matches no case (_ticket_for_number)."""
    number = "".join(number.translate(_FULL_WIDTH).translate(_DASHES).split()).upper()
    number = number.removeprefix("T").removeprefix("-")
    if number.isascii() and number.isdigit():
        return number.lstrip("0") or "0"
    return number[:16]


def _ticket_for_number(number: str) -> Ticket | None:
    key = _ticket_key(number)
    # str.isdigit() alone is true for "²" and "①", which int() refuses.
    if not (key.isascii() and key.isdigit()) or len(key) > 18:
        return None
    return Ticket.objects.select_related("customer", "department").filter(pk=int(key)).first()


def _serialize_on(*keys: str) -> None:
    """Make the count-then-insert of a rate limit safe against concurrent requests: on
    PostgreSQL a transaction-scoped advisory lock per key (taken in one order, so two
    requests never deadlock); SQLite already runs one writer at a time."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
            )


def status_check_start(
    *, ticket_number: str, phone: str, client_ip: str | None, at: datetime | None = None
) -> StatusCheck:
    """A customer asks to see their case. A check is created whether or not the case number
    and the phone on file match, the limits (per address, per case number) count it either
    way, and the same work is done: the page answers exactly the same and reveals nothing.
    After commit the StatusCodeRequested event has telephony text the one-time code from a
    worker, only on a match: no provider call inside the request."""
    at = at or timezone.now()
    hour_ago = at - timedelta(hours=1)
    key = _ticket_key(ticket_number)
    with transaction.atomic():
        _serialize_on(f"status-ip:{client_ip or ''}", f"status-case:{key}")
        if client_ip and (
            StatusCheck.objects.filter(client_ip=client_ip, created_at__gte=hour_ago).count()
            >= STATUS_CHECKS_PER_IP_HOUR
        ):
            raise RateLimited(_("Too many attempts. Try again in an hour."))
        if (
            StatusCheck.objects.filter(ticket_key=key, created_at__gte=hour_ago).count()
            >= STATUS_CHECKS_PER_TICKET_HOUR
        ):
            raise RateLimited(_("Too many attempts. Try again in an hour."))
        ticket = _ticket_for_number(ticket_number)
        normalised = phone_normalize(phone) or ""
        # One query on every path (the customer's other numbers), matched or not.
        on_file = CustomerPhone.objects.filter(
            customer_id=ticket.customer_id if ticket else None, number=normalised
        ).exists()
        matches = (
            ticket is not None
            and normalised != ""
            and ticket.status != TicketStatus.MERGED
            and (normalised == ticket.customer.phone or on_file)
        )
        check = StatusCheck.objects.create(
            ticket=ticket if matches else None,
            ticket_key=key,
            phone=normalised if matches else "",
            code_hash="",
            client_ip=client_ip,
            created_at=at,
            expires_at=at + STATUS_CODE_TTL,
        )
        if dispatch_allowed():
            emit(StatusCodeRequested(check_id=check.pk, language=translation.get_language()))
    return check


def status_check_code_issue(
    *, check_id: int, at: datetime | None = None
) -> tuple[StatusCheck, str] | None:
    """Make a fresh one-time code for the check (committed before it is returned). Returns
    the check and the code when the check matched a case, so the code is to be texted to
    its phone (telephony.sms.status_check_code_send); None otherwise, with nothing to send."""
    at = at or timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        check = (
            StatusCheck.objects.select_for_update(of=("self",))
            .select_related("ticket__customer", "ticket__department")
            .filter(pk=check_id)
            .first()
        )
        if check is None or check.verified_at is not None or check.expires_at <= at:
            return None
        check.code_hash = _code_hash(check.pk, code)
        check.save(update_fields=["code_hash"])
    if check.ticket is None or not check.phone:
        return None
    return check, code


def status_check_verify(*, check_id: int, code: str, at: datetime | None = None) -> Ticket:
    """The ticket, if `code` is the one sent for this check; a clear error otherwise. A
    wrong code uses up one of the check's tries (committed before the error is raised)."""
    at = at or timezone.now()
    with transaction.atomic():
        check = StatusCheck.objects.select_for_update().filter(pk=check_id).first()
        if check is None or check.expires_at <= at or check.verified_at is not None:
            error = _("This code has expired. Start again.")
        elif check.attempts >= STATUS_CODE_ATTEMPTS:
            error = _("Too many wrong codes. Start again.")
        else:
            check.attempts += 1
            code = code.strip()
            ok = (
                check.ticket_id is not None
                and code.isdigit()
                and hmac.compare_digest(check.code_hash, _code_hash(check.pk, code))
            )
            error = "" if ok else _("That code is not right.")
            if ok:
                check.verified_at = at
            check.save(update_fields=["attempts", "verified_at"])
    if error:
        raise ValidationError(error)
    return check.ticket
