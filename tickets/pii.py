"""The PII guard: find customer identifiers in free text an agent is about to save, and
mask them (DOMAIN.md, "Personal data").

- Resident registration numbers: YYMMDD + optional hyphen + 7 digits whose first is 1–8, 9
  or 0 (any digit, then). The checksum is not checked (random since October 2020).
  Masked as YYMMDD-G******.
- Phone numbers, found with `phonenumbers` (mobile, landline and +82 forms); the customer's
  own number on record is not a finding. Masked to the last four digits.
- Card numbers: 13–19 digits grouped with spaces or hyphens, or a bare run of 15–16, passing
  Luhn. At most the first six and the last four digits stay.
- Bank account numbers: 10–14 digits written in 3–4 hyphenated groups (110-123-456789,
  3333-01-1234567), or a bare 10–14 digit run right after the word 계좌/account; anything
  that is a phone number (the customer's own included) is not an account. The last four
  digits stay.
- E-mail addresses. Masked to the first character of the local part.

Dates, amounts and order numbers must not trigger: digit runs glued to Latin letters or to
other digits are not candidates, and a card number must pass Luhn. Korean text glued to a
number (900101-1234567입니다, 주민번호900101-1234567, 4111111111111111로) does not protect it:
the boundaries are ASCII-only (Unicode regexes count Hangul as a word character). Hyphenated runs whose
groups all have one length (1234-5678-9012) or that start with a date (2026-1122-0930), and
runs right after 주문/예약/order words, are order or booking numbers, not accounts. Company
service numbers (1588-xxxx and the other 전국대표번호, 080 toll-free) are not a customer's phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

# re.ASCII: \w and \d are ASCII only, so Hangul glued to a number is a boundary.
RRN = re.compile(
    r"(?<![\w-])(\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))\s?-?\s?([0-9])(\d{6})(?![\w-])",
    re.ASCII,
)
CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])", re.ASCII)
ACCOUNT = re.compile(r"(?<![\w-])\d{2,6}(?:-\d{2,8}){2,3}(?![\w-])", re.ASCII)
# 사업자등록번호 (3-2-5) is a company's public number, not a customer's account.
BUSINESS_NO = re.compile(r"\d{3}-\d{2}-\d{5}")
# A date written with hyphens (2026-11-22-0930) is not an account either.
# (2026-11-22-0930, 2026-1122-0930).
DATE_PREFIX = re.compile(r"(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01])(?:-|$)")
# An order or booking number says so just before it (주문번호 1234-5678-9012).
ORDER_WORD = re.compile(r"(?:주문|예약|접수|송장|운송장|order|booking|invoice)[^\d\n]{0,8}$", re.I)
ACCOUNT_WORD = re.compile(r"(?:계좌|account)[^\d\n]{0,12}$", re.I)
ACCOUNT_BARE = re.compile(
    r"(?:계좌|account)[^\d\n]{0,12}(?<![\w-])(\d{10,14})(?![\w-])", re.I | re.ASCII
)
EMAIL = re.compile(
    r"(?<![\w.+-])([A-Za-z0-9._%+-]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})(?![\w-])", re.ASCII
)
# 전국대표번호 (1588-xxxx, …) and 080 numbers belong to companies, not to the customer.
COMPANY_NUMBER_TYPES = {phonenumbers.PhoneNumberType.UAN, phonenumbers.PhoneNumberType.TOLL_FREE}


@dataclass(frozen=True)
class Finding:
    kind: str  # rrn | phone | card | account | email
    start: int
    end: int
    text: str
    masked: str


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _mask_digits(text: str, keep) -> str:
    """Replace digits with * except those whose digit index `keep(i, count)` says to keep."""
    count = sum(ch.isdigit() for ch in text)
    out, i = [], 0
    for ch in text:
        if ch.isdigit():
            out.append(ch if keep(i, count) else "*")
            i += 1
        else:
            out.append(ch)
    return "".join(out)


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def pii_scan(text: str, *, own_phone: str | Iterable[str] = "") -> list[Finding]:
    """Every identifier in `text`, in order. `own_phone` (E.164, one or several) is the
    customer's number on record: writing it down is not a leak."""
    own = {own_phone} if isinstance(own_phone, str) else set(own_phone)
    own.discard("")
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int, masked: str) -> None:
        findings.append(Finding(kind, start, end, text[start:end], masked))
        taken.append((start, end))

    for m in RRN.finditer(text):
        add("rrn", m.start(), m.end(), f"{m.group(1)}-{m.group(2)}******")
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        # A run with separators is written like a card; a bare run must also have a card's
        # usual length (15 or 16), or order numbers would pass Luhn one time in ten.
        grouped = len(digits) != len(m.group())
        lengths = range(13, 20) if grouped else (15, 16)
        if len(digits) in lengths and _luhn(digits) and not _overlaps(m.span(), taken):
            masked = _mask_digits(m.group(), lambda i, n: i < 6 or i >= n - 4)
            add("card", m.start(), m.end(), masked)
    phone_spans: list[tuple[int, int]] = []
    for match in phonenumbers.PhoneNumberMatcher(text, "KR", leniency=phonenumbers.Leniency.VALID):
        span = (match.start, match.end)
        if _overlaps(span, taken):
            continue
        phone_spans.append(span)
        if phonenumbers.number_type(match.number) in COMPANY_NUMBER_TYPES:
            continue
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if number in own:
            continue
        add("phone", *span, _mask_digits(match.raw_string, lambda i, n: i >= n - 4))
    for m in ACCOUNT.finditer(text):
        digits = sum(ch.isdigit() for ch in m.group())
        if BUSINESS_NO.fullmatch(m.group()) or DATE_PREFIX.match(m.group()):
            continue
        said_account = ACCOUNT_WORD.search(text, 0, m.start())
        if not said_account and len({len(group) for group in m.group().split("-")}) == 1:
            continue  # 1234-5678-9012: evenly grouped like an order number, no bank's format
        if not said_account and ORDER_WORD.search(text, 0, m.start()):
            continue
        if 10 <= digits <= 14 and not _overlaps(m.span(), taken + phone_spans):
            add("account", m.start(), m.end(), _mask_digits(m.group(), lambda i, n: i >= n - 4))
    for m in ACCOUNT_BARE.finditer(text):
        span = m.span(1)
        if not _overlaps(span, taken + phone_spans):
            add("account", *span, _mask_digits(m.group(1), lambda i, n: i >= n - 4))
    for m in EMAIL.finditer(text):
        if not _overlaps(m.span(), taken):
            local, domain = m.group(1), m.group(2)
            add("email", m.start(), m.end(), f"{local[0]}{'*' * (len(local) - 1)}@{domain}")
    return sorted(findings, key=lambda f: f.start)


def pii_mask(text: str, findings: list[Finding]) -> str:
    """`text` with every finding replaced by its masked form."""
    out, last = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        out.append(text[last : f.start])
        out.append(f.masked)
        last = f.end
    out.append(text[last:])
    return "".join(out)
