"""The PII guard: find customer identifiers in free text before it is stored or logged, and
mask them (DOMAIN.md, "Personal data").

Text is matched after normalising what people and phones type (`normalise`): NFKC per
character (full-width ９００１０１, ideographic spaces, ① → 1), any other script's decimal
digits to ASCII, every dash-like character (‐ ‑ ‒ – — ― − ー － ﹣ …, and ㅡ between digits)
to "-", invisible characters (zero-width space, soft hyphen, BOM) dropped, and a line break
between the digit groups of a number read as a space. Findings are reported in the
original text's positions through an index map, since normalising can change the length.

- Resident registration numbers: YYMMDD, then a space, hyphen or dot (or nothing), then 7
  digits whose first is 1–8, 9 or 0 (any digit, then; the 7 may be split once). The
  checksum is not checked (random since October 2020). Masked as YYMMDD-G******.
- Phone numbers, found with `phonenumbers` (mobile, landline and +82 forms); the customer's
  own number on record is not a finding. Masked to the last four digits.
- Card numbers: 13–19 digits in groups split by one kind of separator (spaces or line
  breaks, hyphens, or dots), or a bare run of 15–16, passing Luhn. At most the first six
  and the last four digits stay.
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
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Dash-like characters that are not in Unicode's "Pd" (dash punctuation) category but are
# typed between digit groups: minus sign, katakana prolonged sound mark (and its half-width
# form), modifier minus, heavy minus, hyphen bullet.
EXTRA_DASHES = frozenset("\u2212\u30fc\uff70\u02d7\u2796\u2043")
# Characters that render as nothing and would split a number in two.
INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
# ㅡ (Hangul letter eu, U+1173 after NFKC) is typed as a dash on Korean keyboards; it is
# read as one only between digits.
HANGUL_EU_DASH = re.compile(r"(?<=\d)([ \t]*)[\u3161\u1173](?=[ \t]*\d)")

# One separator between the digit groups of a number: a hyphen or dot, with or without
# spaces around it, or spaces (line breaks inside a number are read as spaces).
SEP = r"(?:[ \t]*[-.][ \t]*|[ \t]+)"
# A run of digit groups: where numbers written with separators are looked for.
DIGIT_RUN = re.compile(rf"\d+(?:(?:{SEP}|[ \t]*\r?\n[ \t]*)\d+)*", re.ASCII)
CARD_RUN = re.compile(rf"(?<![\w-])\d+(?:{SEP}\d+)*(?![\w-])", re.ASCII)
DIGIT_GROUP = re.compile(r"\d+", re.ASCII)
CARD_SEPARATOR = re.compile(r"[ \t]*-[ \t]*|[ \t]*\.[ \t]*|[ \t]+", re.ASCII)

# re.ASCII: \w and \d are ASCII only, so Hangul glued to a number is a boundary.
RRN = re.compile(
    r"(?<![\w-])(\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
    r"(?:[ \t]*[-.][ \t]*|[ \t]+)?([0-9])(\d(?:[ \t]?\d){5})(?![\w-]|[.-]\d)",
    re.ASCII,
)
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


@dataclass(frozen=True)
class Normalised:
    """`text` as matched, and where each of its characters came from in the original:
    character k of `text` is (part of) original[starts[k]:ends[k]]."""

    text: str
    starts: list[int]
    ends: list[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]


def normalise(original: str) -> Normalised:
    """What people and phones type, made matchable (see the module docstring)."""
    chars: list[str] = []
    starts: list[int] = []
    for i, ch in enumerate(original):
        if ch.isascii():
            chars.append(ch)
            starts.append(i)
            continue
        if ch in INVISIBLE:
            continue
        for c in unicodedata.normalize("NFKC", ch):
            if c in EXTRA_DASHES or unicodedata.category(c) == "Pd":
                c = "-"
            elif not c.isascii() and unicodedata.decimal(c, None) is not None:
                c = str(unicodedata.decimal(c))
            elif c in "\u2028\u2029\x85":
                c = "\n"
            chars.append(c)
            starts.append(i)
    text = HANGUL_EU_DASH.sub(r"\1-", "".join(chars))
    # A line break inside a run of digit groups (a card number wrapped onto two lines) is
    # read as a space; the same length, so the index map holds.
    text = DIGIT_RUN.sub(lambda m: m.group().replace("\r", " ").replace("\n", " "), text)
    ends = [s + 1 for s in starts]
    return Normalised(text, starts, ends)


def _card_windows(run: re.Match) -> Iterable[tuple[int, int]]:
    """Spans (in the run's text) of groups that could be a card: 13–19 digits, one kind of
    separator, Luhn; a bare group only at a card's usual length (15 or 16), or order numbers
    would pass Luhn one time in ten. From each group the usual lengths (16, then 15) are
    tried first, so "4111 1111 1111 1111 3회" is a card and an instalment count; windows do
    not overlap."""
    groups = list(DIGIT_GROUP.finditer(run.group()))
    seps = [
        CARD_SEPARATOR.fullmatch(run.group()[a.end() : b.start()]).group().strip() or " "
        for a, b in zip(groups, groups[1:], strict=False)
    ]
    i = 0
    while i < len(groups):
        candidates = []
        for j in range(i, len(groups)):
            if len(set(seps[i:j])) > 1:
                break
            digits = "".join(g.group() for g in groups[i : j + 1])
            if len(digits) > 19:
                break
            lengths = range(13, 20) if j > i else (15, 16)
            if len(digits) in lengths and _luhn(digits):
                candidates.append((len(digits) != 16, len(digits) != 15, -len(digits), j))
        if not candidates:
            i += 1
            continue
        j = min(candidates)[-1]
        yield run.start() + groups[i].start(), run.start() + groups[j].end()
        i = j + 1


def pii_scan(
    text: str, *, own_phone: str | Iterable[str] = "", kinds: Iterable[str] | None = None
) -> list[Finding]:
    """Every identifier in `text`, in order, with positions in `text` itself. `own_phone`
    (E.164, one or several) is the customer's number on record: writing it down is not a
    leak. `kinds` limits the search (the log filter looks for rrn, card and phone only)."""
    own = {own_phone} if isinstance(own_phone, str) else set(own_phone)
    own.discard("")
    wanted = set(kinds) if kinds is not None else {"rrn", "card", "phone", "account", "email"}
    norm = normalise(text)
    flat = norm.text
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int, masked: str) -> None:
        o_start, o_end = norm.original_span(start, end)
        findings.append(Finding(kind, o_start, o_end, text[o_start:o_end], masked))
        taken.append((start, end))

    def keep_last_four(start: int, end: int) -> str:
        return _mask_digits(flat[start:end], lambda i, n: i >= n - 4)

    for m in RRN.finditer(flat) if "rrn" in wanted else ():
        if m.group(3).count(" ") + m.group(3).count("\t") <= 1:
            add("rrn", m.start(), m.end(), f"{m.group(1)}-{m.group(2)}******")
    for run in CARD_RUN.finditer(flat) if "card" in wanted else ():
        for start, end in _card_windows(run):
            if not _overlaps((start, end), taken):
                masked = _mask_digits(flat[start:end], lambda i, n: i < 6 or i >= n - 4)
                add("card", start, end, masked)
    phone_spans: list[tuple[int, int]] = []
    if wanted & {"phone", "account"}:
        matcher = phonenumbers.PhoneNumberMatcher(flat, "KR", leniency=phonenumbers.Leniency.VALID)
        for match in matcher:
            span = (match.start, match.end)
            if _overlaps(span, taken):
                continue
            phone_spans.append(span)
            if "phone" not in wanted:
                continue
            if phonenumbers.number_type(match.number) in COMPANY_NUMBER_TYPES:
                continue
            number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            if number in own:
                continue
            add("phone", *span, keep_last_four(*span))
    for m in ACCOUNT.finditer(flat) if "account" in wanted else ():
        digits = sum(ch.isdigit() for ch in m.group())
        if BUSINESS_NO.fullmatch(m.group()) or DATE_PREFIX.match(m.group()):
            continue
        said_account = ACCOUNT_WORD.search(flat, 0, m.start())
        if not said_account and len({len(group) for group in m.group().split("-")}) == 1:
            continue  # 1234-5678-9012: evenly grouped like an order number, no bank's format
        if not said_account and ORDER_WORD.search(flat, 0, m.start()):
            continue
        if 10 <= digits <= 14 and not _overlaps(m.span(), taken + phone_spans):
            add("account", *m.span(), keep_last_four(*m.span()))
    for m in ACCOUNT_BARE.finditer(flat) if "account" in wanted else ():
        span = m.span(1)
        if not _overlaps(span, taken + phone_spans):
            add("account", *span, keep_last_four(*span))
    for m in EMAIL.finditer(flat) if "email" in wanted else ():
        if not _overlaps(m.span(), taken):
            local, domain = m.group(1), m.group(2)
            add("email", *m.span(), f"{local[0]}{'*' * (len(local) - 1)}@{domain}")
    return sorted(findings, key=lambda f: f.start)


def pii_redact(text: str, *, own_phone: str | Iterable[str] = "", kinds=None) -> str:
    """`text` with every identifier masked, no questions asked: for text that arrives from
    outside (an inbound SMS) or goes to a log, where no agent is there to choose."""
    return pii_mask(text, pii_scan(text, own_phone=own_phone, kinds=kinds))


def pii_mask(text: str, findings: list[Finding]) -> str:
    """`text` with every finding replaced by its masked form."""
    out, last = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        out.append(text[last : f.start])
        out.append(f.masked)
        last = f.end
    out.append(text[last:])
    return "".join(out)


PII_KINDS = {
    "rrn": _("Resident registration number"),
    "card": _("Card number"),
    "phone": _("Phone number"),
    "account": _("Account number"),
    "email": _("E-mail address"),
}
PII_MESSAGE = _("Personal data found: it will be saved masked. Edit it out, or save again.")


class PiiBlocked(ValidationError):
    """Free text holds an identifier and the writer has not confirmed that it be stored
    masked: nothing is stored. `findings` is what a page or an API answer shows."""

    def __init__(self, findings: list[tuple[str, Finding]]):
        super().__init__(PII_MESSAGE, code="pii")
        self.findings = findings


@dataclass(frozen=True)
class Guarded:
    """Free text as it may be stored: masked where the guard found something."""

    texts: dict[str, str]
    findings: list[tuple[str, Finding]]

    def found(self) -> list[tuple[str, str, str]]:
        """(field, kind, masked form) of each finding: what the detection log keeps."""
        return [(field, f.kind, f.masked) for field, f in self.findings]


def pii_guard(
    texts: Mapping[str, str | None],
    *,
    confirmed: bool,
    own_phone: str | Iterable[str] = "",
) -> Guarded:
    """The one PII guard on free text a person writes. Services call it before they store
    text: with a finding and no confirmation (the writer saving again, `pii_action=mask`) it
    raises PiiBlocked and nothing is stored; confirmed, the texts come back masked with what
    was found, for the detection log. Forms and serializers call it only to show findings.
    `own_phone`: the customer's numbers on record (writing one down is not a leak)."""
    findings = [
        (name, finding)
        for name, text in texts.items()
        for finding in pii_scan(text or "", own_phone=own_phone)
    ]
    if findings and not confirmed:
        raise PiiBlocked(findings)
    masked = {name: text or "" for name, text in texts.items()}
    for name, text in texts.items():
        found = [f for field, f in findings if field == name]
        if found:
            masked[name] = pii_mask(text or "", found)
    return Guarded(masked, findings)


def pii_list(findings: list[tuple[str, Finding]], labels: Mapping[str, str] | None = None):
    """Findings as the page lists them (tickets/_pii.html): field label, kind, text, mask."""
    labels = labels or {}
    return [
        {
            "field": labels.get(name, name),
            "kind": PII_KINDS.get(f.kind, f.kind),
            "text": f.text,
            "masked": f.masked,
        }
        for name, f in findings
    ]
