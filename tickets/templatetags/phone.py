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
