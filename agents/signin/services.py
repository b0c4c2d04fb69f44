"""Every write of sign-in: TOTP enrolment, recovery codes, the second-factor check, and the
password reset an admin issues."""

from __future__ import annotations

import logging
import re

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agents.models import Person

log = logging.getLogger(__name__)

TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery"
_TOTP_TOKEN = re.compile(r"\d{6}")


def totp_device_pending(*, person: Person) -> TOTPDevice:
    """The unconfirmed authenticator the enrolment page shows as a QR code (one per person,
    kept across reloads so the code scanned stays valid until confirmed)."""
    device = TOTPDevice.objects.filter(user=person, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=person, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def recovery_codes_issue(*, person: Person) -> list[str]:
    """A fresh set of one-time recovery codes; the old set stops working. Shown once."""
    StaticDevice.objects.filter(user=person).delete()
    device = StaticDevice.objects.create(user=person, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.OTP_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def totp_device_confirm(
    *, person: Person, token: str, keep_session_key: str | None = None
) -> tuple[TOTPDevice, list[str]] | None:
    """Confirms the pending authenticator with a code it shows, replaces any earlier one,
    issues the recovery codes and ends the person's other sessions (signed in with the
    password alone). None when the code is wrong (or tried too often)."""
    device = TOTPDevice.objects.select_for_update().filter(user=person, confirmed=False).first()
    if device is None or not device.verify_token(token.strip()):
        return None
    TOTPDevice.objects.filter(user=person, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _sessions_end(person, keep_session_key=keep_session_key)
    log.info("two-factor: person %s enrolled an authenticator", person.pk)
    return device, recovery_codes_issue(person=person)


def second_factor_check(*, person: Person, token: str) -> Device | None:
    """The device that accepts this code: six digits are an authenticator code, anything
    else a recovery code (used up by this). Each device throttles its own failures."""
    token = "".join(token.split()).lower()
    if not token:
        return None
    for device in devices_for_user(person, confirmed=True):
        is_totp = isinstance(device, TOTPDevice)
        if is_totp != bool(_TOTP_TOKEN.fullmatch(token)):
            continue
        if device.verify_token(token):
            return device
    log.warning("two-factor: wrong code for person %s", person.pk)
    return None


def second_factor_throttled(*, person: Person) -> bool:
    """True while every device refuses to check codes (too many wrong ones)."""
    devices = list(devices_for_user(person, confirmed=True))
    return bool(devices) and not any(d.verify_is_allowed()[0] for d in devices)


@transaction.atomic
def two_factor_remove(*, person: Person, by: Person) -> int:
    """An admin removes someone's authenticator and recovery codes (a lost phone): they
    enrol again at their next sign-in if their role requires it."""
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        removed += model.objects.filter(user=person).delete()[1].get(model._meta.label, 0)
    log.warning("two-factor: devices of person %s removed by person %s", person.pk, by.pk)
    return removed


def _sessions_end(person: Person, *, keep_session_key: str | None = None) -> None:
    """A changed password already invalidates other sessions (Django checks the session's
    password hash); this removes the rows too, so nothing lingers."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).exclude(
        session_key=keep_session_key
    )
    for session in live.iterator():
        if session.get_decoded().get("_auth_user_id") == str(person.pk):
            session.delete()


@transaction.atomic
def password_reset_issue(*, person: Person, by: Person) -> str:
    """An admin resets someone's password: the old one stops working, their sessions end,
    a lockout of their user name is lifted, and a one-time link to choose a new one is returned (to show the admin once; it is not
    stored). The link works until a password is set with it (the token covers the
    password hash) or PASSWORD_RESET_TIMEOUT passes."""
    person.set_unusable_password()
    person.save(update_fields=["password"])
    _sessions_end(person)
    # Often the reason for the reset: a lockout of their user name ends with it.
    axes_reset(username=person.get_username())
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    token = default_token_generator.make_token(person)
    log.warning("password reset link issued for person %s by person %s", person.pk, by.pk)
    path = reverse("signin:password-reset-confirm", kwargs={"uidb64": uid, "token": token})
    return settings.PUBLIC_BASE_URL + path
