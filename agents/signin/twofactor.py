"""Who owes a second factor, and what they must do next: verify or enrol."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django_otp import device_classes

from agents.models import Person, Role


def has_confirmed_device(person: Person) -> bool:
    """One query over every installed device kind (TOTP, recovery codes)."""
    any_device = Q()
    for model in device_classes():
        any_device |= Exists(model.objects.filter(user=OuterRef("pk"), confirmed=True))
    return Person.objects.filter(any_device, pk=person.pk).exists()


def otp_required_for(person: Person) -> bool:
    """`OTP_REQUIRED_ROLES` names roles; "admin" also covers every staff or superuser
    account, whatever its role (they reach /admin/)."""
    required = set(settings.OTP_REQUIRED_ROLES)
    if person.role in required:
        return True
    return Role.ADMIN in required and (person.is_staff or person.is_superuser)


def second_factor_step(person: Person) -> str | None:
    """ "verify" for anyone with a confirmed device (those who enrolled of their own accord
    too), "enrol" for those required to have one who have none, None when nothing is owed.
    The caller checks whether the session already passed (request.user.is_verified())."""
    if has_confirmed_device(person):
        return "verify"
    if otp_required_for(person):
        return "enrol"
    return None
