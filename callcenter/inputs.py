"""Parsing what people and machines send, so that bad input is a clear 400 or form error,
never a 500 (issue 17, item 8; tests/test_bad_input.py fuzzes every page and webhook).

- `RejectNulMiddleware`: a NUL character anywhere in the query string or a form body is a
  400 before any view runs (PostgreSQL refuses NUL in text; no one types it).
- `parse_id`: an id from a query parameter or form value: ASCII digits only ("²".isdigit()
  is true, int("²") fails) and within a database id (a BigAutoField).
- `parse_month`: YYYY-MM (ASCII, years 1900–9998, so that the month's bounds and their
  time-zone conversions exist; month 1–12) → the month's first day. Where the month is
  written (a month closed, a sheet computed), pass `years=BUSINESS_YEARS`: 2000–2100, the
  months a center can have (a crafted `1900-01` once closed a month, issue 18).
- `IntegerField`: a form field bounded to what an integer column holds (PostgreSQL's
  `integer` is 32-bit: a larger number is a form error, not an overflow at save).
"""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

MAX_ID = 2**63 - 1  # BigAutoField
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL integer (IntegerField columns)
MIN_YEAR, MAX_YEAR = 1900, 9998
BUSINESS_YEARS = (2000, 2100)  # the months a center's records can belong to
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


def parse_id(raw) -> int | None:
    """The positive id `raw` spells in ASCII digits, or None (missing, "²", 2^64, -1, …)."""
    if not isinstance(raw, str) or not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def parse_month(raw, *, years: tuple[int, int] = (MIN_YEAR, MAX_YEAR)) -> date | None:
    """The first day of the month `raw` spells as YYYY-MM, or None (0000-01, 2026-13, ²…,
    or a year outside `years`, both included)."""
    match = _MONTH.fullmatch(raw or "") if isinstance(raw, str) else None
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (years[0] <= year <= years[1] and 1 <= month <= 12):
        return None
    return date(year, month, 1)


class IntegerField(forms.IntegerField):
    """forms.IntegerField bounded to an integer column unless told otherwise."""

    def __init__(self, *, min_value=INT_MIN, max_value=INT_MAX, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)


def _has_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in query.lists())


class RejectNulMiddleware:
    """400 for a NUL character in the query string or a form-encoded or multipart body (in
    a key or a value), and for a JSON body that escapes one (\\u0000): refused once here,
    rather than stripped or caught in every view, form and serializer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request.GET) or self._body_has_nul(request):
            message = _("The request contains a NUL character.")
            if request.path.startswith("/api/"):  # the API answers JSON, as documented
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain")
        return self.get_response(request)

    @staticmethod
    def _body_has_nul(request: HttpRequest) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return False
        content_type = request.content_type or ""
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                return _has_nul(request.POST)
            except Exception:  # noqa: BLE001 - a body Django cannot parse is the view's 400
                return False
        if content_type.endswith("json"):
            body = request.body.lower()
            return b"\\u0000" in body or b"\x00" in body
        return False
