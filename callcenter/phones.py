"""Phone numbers as Sangdam stores them: E.164, whatever way a person or a phone wrote them."""

from __future__ import annotations

import functools

import phonenumbers


@functools.lru_cache(maxsize=4096)
def phone_normalize(raw: str, *, region: str = "KR") -> str | None:
    """E.164 for a phone number written any common way, or None if it is not one. Kept per
    process for the numbers seen last: every incoming call asks for its dialled number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
