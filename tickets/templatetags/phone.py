"""Phone numbers as people read them: stored E.164 (+821012345678), shown the way the
center writes them (010-1234-5678; foreign numbers in international form)."""

from __future__ import annotations

import phonenumbers
from django import template
from django.conf import settings

register = template.Library()


@register.filter
def phone(value: str | None) -> str:
    if not value:
        return ""
    region = getattr(settings, "PHONE_REGION", "KR")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(number):
        return value
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def phone_masked(value: str | None) -> str:
    """The number as the center writes it with all but the last four digits hidden; seeing
    it whole is an audited action (customer page → Show)."""
    shown = phone(value)
    if not shown:
        return ""
    count = sum(ch.isdigit() for ch in shown)
    out, i = [], 0
    for ch in shown:
        if ch.isdigit():
            out.append(ch if i < 3 and shown.startswith("0") or i >= count - 4 else "*")
            i += 1
        else:
            out.append(ch)
    return "".join(out)


@register.filter
def email_masked(value: str | None) -> str:
    if not value or "@" not in value:
        return value or ""
    local, domain = value.split("@", 1)
    return f"{local[0]}{'*' * (len(local) - 1)}@{domain}"
