"""The PII guard matches what people and phones really type: full-width digits, spaces,
dots, any dash between digit groups, numbers split across line breaks. Each spelling is
posted through the real pages and the API, and none may be stored unmasked."""

import unicodedata

import pytest

from tests.factories import TicketFactory
from tests.tickets.test_pii_wrapup import call_in_wrapup, post_wrapup
from tickets.models import CustomerNote, Ticket, TicketEvent, TicketNote

RRN = "234567"  # 900101-1234567: the digits that must never be stored
CARD = "880343"  # 4539 1488 0343 6467 (Luhn): the middle digits
AMEX = "224631"  # 3782 822463 10005
PHONE = "98765"  # 010-9876-5432: the digits before the last four

SPELLINGS = [
    ("주민번호 ９００１０１－１２３４５６７ 입니다", RRN),
    ("주민번호 ９００１０１-１２３４５６７", RRN),
    ("주민번호 ９００１０１\u3000１２３４５６７", RRN),
    ("주민번호 900101 1234567", RRN),
    ("주민번호 900101.1234567", RRN),
    ("주민번호 900101 - 1234567", RRN),
    ("주민번호 900101\u20131234567", RRN),  # en dash
    ("주민번호 900101\u20141234567", RRN),  # em dash
    ("주민번호 900101\u22121234567", RRN),  # minus sign
    ("주민번호 900101\u30fc1234567", RRN),  # katakana prolonged sound mark
    ("주민번호 900101\u20101234567", RRN),  # hyphen
    ("주민번호 900101\u20111234567", RRN),  # non-breaking hyphen
    ("주민번호 900101\u20121234567", RRN),  # figure dash
    ("주민번호 900101\u20151234567", RRN),  # horizontal bar
    ("주민번호 900101\u31611234567", RRN),  # ㅡ typed as a dash
    ("주민번호 900101\n1234567", RRN),
    ("주민번호 900101-123\n4567", RRN),
    ("주민번호 900101\u200b-1234567", RRN),  # zero-width space
    ("카드 4539 1488\n0343 6467 결제", CARD),
    ("카드 4539\n1488\n0343\n6467", CARD),
    ("카드 ４５３９ １４８８ ０３４３ ６４６７", CARD),
    ("카드 ４５３９１４８８０３４３６４６７로", CARD),
    ("카드 4539.1488.0343.6467", CARD),
    ("카드 4539\u20131488\u20130343\u20136467", CARD),
    ("카드 4539  1488  0343  6467 3회 할부", CARD),
    ("카드 3782 822463\n10005", AMEX),
    ("연락처 ０１０－９８７６－５４３２", PHONE),
    ("연락처 010.9876.5432", PHONE),
    ("연락처 010 9876 5432", PHONE),
    ("연락처 010\u20139876\u20135432", PHONE),
    ("연락처 010\n9876\n5432", PHONE),
    ("연락처 ＋８２ １０ ９８７６ ５４３２", PHONE),
    ("연락처 010\u30fc9876\u30fc5432", PHONE),
]


def _digits(text: str) -> str:
    """The digits in `text` as ASCII, whatever script or width they were written in."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def _leaks(secret: str) -> list[str]:
    """Every stored text that still holds the identifier's digits."""
    texts = [
        *TicketNote.objects.values_list("body", flat=True),
        *CustomerNote.objects.values_list("body", flat=True),
        *Ticket.objects.values_list("subject", flat=True),
        *TicketEvent.objects.values_list("old_value", flat=True),
        *TicketEvent.objects.values_list("new_value", flat=True),
    ]
    return [text for text in texts if secret in _digits(text)]


def _wrapup_note(client, org, text, **extra):
    call = getattr(org, "_wrapup_call", None) or call_in_wrapup(org)
    org._wrapup_call = call
    return post_wrapup(client, org, call, text, **extra)


def _ticket_note(client, org, text, **extra):
    ticket = Ticket.objects.earliest("pk")
    return client.post(f"/tickets/{ticket.pk}/notes/", {"body": text, **extra})


def _new_ticket_subject(client, org, text, **extra):
    customer = Ticket.objects.earliest("pk").customer
    data = {"subject": text, "priority": "normal", "severity": "minor", **extra}
    return client.post(f"/tickets/customers/{customer.pk}/tickets/", data)


def _customer_note(client, org, text, **extra):
    customer = Ticket.objects.earliest("pk").customer
    return client.post(f"/tickets/customers/{customer.pk}/notes/", {"body": text, **extra})


def _notes_api(client, org, text, **extra):
    ticket = Ticket.objects.earliest("pk")
    return client.post(
        f"/api/tickets/{ticket.pk}/notes/", {"body": text, **extra}, content_type="application/json"
    )


def _ticket_api_subject(client, org, text, **extra):
    ticket = Ticket.objects.earliest("pk")
    return client.patch(
        f"/api/tickets/{ticket.pk}/", {"subject": text, **extra}, content_type="application/json"
    )


SURFACES = {
    "wrapup-note": _wrapup_note,
    "ticket-note": _ticket_note,
    "new-ticket-subject": _new_ticket_subject,
    "customer-note": _customer_note,
    "notes-api": _notes_api,
    "ticket-api-subject": _ticket_api_subject,
}


@pytest.mark.parametrize(("text", "secret"), SPELLINGS, ids=[repr(s)[1:-1] for s, _ in SPELLINGS])
def test_no_spelling_of_an_identifier_is_stored_unmasked(client, org, text, secret):
    """Each surface in turn: the first post is refused with the findings shown (422) and
    stores nothing readable; the confirmed post stores it masked."""
    TicketFactory(team=org.team_a, assignee=org.agent1)
    client.force_login(org.agent1)
    missed = []
    for name, post in SURFACES.items():
        first = post(client, org, text)
        second = post(client, org, text, pii_action="mask")
        if first.status_code != 422 or second.status_code >= 400 or _leaks(secret):
            missed.append((name, first.status_code, _leaks(secret)))
    assert missed == []
