"""The public case-status page: case number + phone on file → SMS code → status and
public updates. A wrong number gets the same answer and no SMS; rate limited."""

import re

from telephony.models import SmsMessage
from tests.tickets.helpers import make_ticket
from tickets import services


def sent_code() -> str:
    return re.findall(r"\b(\d{6})\b", SmsMessage.objects.get(direction="outbound").body)[-1]


def test_the_customer_sees_their_case_after_the_sms_code(client, org):
    ticket = make_ticket(org, phone="+821012345678")
    services.ticket_note_add(actor=org.agent1, ticket=ticket, body="내부 메모", is_public=False)
    services.ticket_note_add(
        actor=org.agent1, ticket=ticket, body="환불 처리 중입니다", is_public=True
    )
    response = client.post("/status/", {"ticket_number": ticket.number, "phone": "010-1234-5678"})
    assert response.status_code == 302 and response.url == "/status/code/"
    sms = SmsMessage.objects.get(direction="outbound")
    assert sms.to_number == "+821012345678" and ticket.number in sms.body
    assert (
        client.post(
            "/status/code/", {"code": "000000" if sent_code() != "000000" else "111111"}
        ).status_code
        == 400
    )
    response = client.post("/status/code/", {"code": sent_code()})
    assert response.status_code == 302
    page = client.get("/status/case/").content.decode()
    assert ticket.number in page and "환불 처리 중입니다" in page
    assert "내부 메모" not in page and "홍길동" not in page


def test_a_wrong_number_reveals_nothing_and_sends_nothing(client, org):
    ticket = make_ticket(org, phone="+821012345678")
    right = client.post("/status/", {"ticket_number": ticket.number, "phone": "010-1234-5678"})
    client.cookies.clear()
    wrong = client.post("/status/", {"ticket_number": ticket.number, "phone": "010-9999-0000"})
    assert (wrong.status_code, wrong.url) == (right.status_code, right.url)
    assert SmsMessage.objects.count() == 1
    nowhere = client.post("/status/", {"ticket_number": "T-999999", "phone": "010-9999-0000"})
    assert (nowhere.status_code, nowhere.url) == (right.status_code, right.url)
    for code in ("000000", "123456", "999999"):
        assert client.post("/status/code/", {"code": code}).status_code == 400
    assert client.get("/status/case/").url == "/status/"


def test_it_is_rate_limited_per_address_and_codes_per_check(client, org):
    ticket = make_ticket(org, phone="+821012345678")
    for _ in range(services.STATUS_CHECKS_PER_IP_HOUR):
        client.post("/status/", {"ticket_number": "T-000777", "phone": "010-0000-0000"})
    limited = client.post("/status/", {"ticket_number": ticket.number, "phone": "010-1234-5678"})
    assert limited.status_code == 429
    assert not SmsMessage.objects.exists()


def test_too_many_wrong_codes_end_the_check(client, org):
    ticket = make_ticket(org, phone="+821012345678")
    client.post("/status/", {"ticket_number": ticket.number, "phone": "010-1234-5678"})
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(services.STATUS_CODE_ATTEMPTS):
        client.post("/status/code/", {"code": wrong})
    assert client.post("/status/code/", {"code": code}).status_code == 400


def test_bad_input_is_a_form_error(client, org):
    assert client.post("/status/", {"ticket_number": "", "phone": ""}).status_code == 400
    assert client.get("/status/code/").url == "/status/"
