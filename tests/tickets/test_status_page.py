"""The public case-status page: case number + phone on file → SMS code → status and
public updates. A wrong number gets the same answer and no SMS; rate limited. The SMS goes
out from a Celery task after the check committed (run here as the worker would)."""

import re

import pytest

from telephony.models import SimulatorMessage, SmsMessage
from telephony.tasks import status_check_sms
from tests.factories import TicketFactory
from tickets.models import StatusCheck
from tickets.services.status_checks import (
    STATUS_CHECKS_PER_IP_HOUR,
    STATUS_CHECKS_PER_TICKET_HOUR,
    STATUS_CODE_ATTEMPTS,
)
from tickets.services.tickets import ticket_note_add


@pytest.fixture
def lookup(client, monkeypatch, django_capture_on_commit_callbacks):
    """POST /status/ as if the request committed: its commit hooks run, and the task they
    queue runs right away (with Celery's retries), as the worker would."""
    monkeypatch.setattr(status_check_sms, "delay", lambda *a: status_check_sms.apply(args=a))

    def post(data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/status/", data, **extra)

    return post


def sent_code() -> str:
    """The code as the customer's phone got it (the simulator's log): the stored SMS only
    shows it masked."""
    sms = SimulatorMessage.objects.filter(action="sms").latest("pk")
    return re.findall(r"\b(\d{6})\b", sms.data["body"])[-1]


def test_the_customer_sees_their_case_after_the_sms_code(client, org, lookup):
    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    ticket_note_add(actor=org.agent1, ticket=ticket, body="내부 메모", is_public=False)
    ticket_note_add(actor=org.agent1, ticket=ticket, body="환불 처리 중입니다", is_public=True)
    response = lookup({"ticket_number": ticket.number, "phone": "010-1234-5678"})
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


def test_a_wrong_number_reveals_nothing_and_sends_nothing(client, org, lookup):
    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    right = lookup({"ticket_number": ticket.number, "phone": "010-1234-5678"})
    client.cookies.clear()
    wrong = lookup({"ticket_number": ticket.number, "phone": "010-9999-0000"})
    assert (wrong.status_code, wrong.url) == (right.status_code, right.url)
    assert SmsMessage.objects.count() == 1
    nowhere = lookup({"ticket_number": "T-999999", "phone": "010-9999-0000"})
    assert (nowhere.status_code, nowhere.url) == (right.status_code, right.url)
    for code in ("000000", "123456", "999999"):
        assert client.post("/status/code/", {"code": code}).status_code == 400
    assert client.get("/status/case/").url == "/status/"


def test_it_is_rate_limited_per_address_and_codes_per_check(client, org, lookup):
    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    for i in range(STATUS_CHECKS_PER_IP_HOUR):
        lookup({"ticket_number": f"T-000{700 + i}", "phone": "010-0000-0000"})
    limited = lookup({"ticket_number": ticket.number, "phone": "010-1234-5678"})
    assert limited.status_code == 429
    assert not SmsMessage.objects.exists()


def test_too_many_wrong_codes_end_the_check(client, org, lookup):
    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    lookup({"ticket_number": ticket.number, "phone": "010-1234-5678"})
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(STATUS_CODE_ATTEMPTS):
        client.post("/status/code/", {"code": wrong})
    assert client.post("/status/code/", {"code": code}).status_code == 400


def test_bad_input_is_a_form_error(client, org, lookup):
    assert lookup({"ticket_number": "", "phone": ""}).status_code == 400
    assert client.get("/status/code/").url == "/status/"


def test_the_per_case_limit_counts_wrong_phones_too_and_answers_the_same(client, org, lookup):
    """429 vs 302 must not tell whether the phone was right: the per-case limit counts
    every attempt on the case number, from any address."""
    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    for i in range(STATUS_CHECKS_PER_TICKET_HOUR):
        wrong = {"ticket_number": ticket.number, "phone": "010-9999-8888"}
        assert lookup(wrong, REMOTE_ADDR=f"10.0.0.{i}").status_code == 302
    wrong = lookup(
        {"ticket_number": ticket.number, "phone": "010-9999-8888"}, REMOTE_ADDR="10.0.1.1"
    )
    right = lookup(
        {"ticket_number": ticket.number, "phone": "010-1234-5678"}, REMOTE_ADDR="10.0.1.2"
    )
    assert (wrong.status_code, right.status_code) == (429, 429)
    assert _page(wrong, "010-9999-8888") == _page(right, "010-1234-5678")
    # T-000001, t-1 and 1 are one case number
    same = lookup(
        {"ticket_number": f"t-{ticket.pk}", "phone": "010-1234-5678"}, REMOTE_ADDR="10.0.1.3"
    )
    assert same.status_code == 429
    assert not SmsMessage.objects.exists()


def _page(response, phone: str) -> str:
    """The page without what differs by nature: the CSRF token and the number typed."""
    page = response.content.decode().replace(phone, "")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def test_the_stored_sms_never_shows_the_code(client, org, lookup):
    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    lookup({"ticket_number": ticket.number, "phone": "010-1234-5678"})
    code = sent_code()
    sms = SmsMessage.objects.get(direction="outbound")
    assert code not in sms.body and "******" in sms.body and ticket.number in sms.body
    assert client.post("/status/code/", {"code": code}).status_code == 302


def test_a_failing_provider_is_retried_then_logged_never_a_500(
    client, org, lookup, settings, monkeypatch, caplog
):
    """Twilio errors happen in the task, after the request answered the same as ever."""
    from twilio.base.exceptions import TwilioRestException

    settings.TELEPHONY_MODE = "twilio"
    calls = []

    class FailingClient:
        def __init__(self, *args, **kwargs):
            self.messages = self

        def create(self, **kwargs):
            calls.append(kwargs)
            raise TwilioRestException(400, "uri", "bad number")

    monkeypatch.setattr("twilio.rest.Client", FailingClient)
    monkeypatch.setattr(status_check_sms, "retry", _retry_now(status_check_sms))
    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    right = lookup({"ticket_number": ticket.number, "phone": "010-1234-5678"})
    client.cookies.clear()
    wrong = lookup({"ticket_number": ticket.number, "phone": "010-9999-8888"})
    assert (
        (right.status_code, right.url) == (wrong.status_code, wrong.url) == (302, "/status/code/")
    )
    assert len(calls) == 1 + 3  # the first try and three retries, for the matching case only
    assert "giving up" in caplog.text
    assert not SmsMessage.objects.exists()
    assert StatusCheck.objects.filter(ticket=ticket).count() == 1


def _retry_now(task):
    """Celery's retry, minus the wait: the retry runs at once, as the worker would later."""
    original = task.retry

    def retry(exc=None, countdown=None, **kwargs):
        return original(exc=exc, countdown=0, **kwargs)

    return retry


@pytest.mark.django_db(transaction=True)
def test_the_code_goes_out_from_the_worker_after_commit(client, org, celery_worker):
    import time

    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    response = client.post("/status/", {"ticket_number": ticket.number, "phone": "010-1234-5678"})
    assert response.status_code == 302
    end = time.monotonic() + 15
    while time.monotonic() < end and not SmsMessage.objects.exists():
        time.sleep(0.1)
    assert client.post("/status/code/", {"code": sent_code()}).status_code == 302


def test_behind_the_tls_proxy_the_limit_is_per_customer_not_per_proxy(
    client, org, lookup, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.9.9.9"}
    for i in range(STATUS_CHECKS_PER_IP_HOUR):
        data = {"ticket_number": f"T-000{700 + i}", "phone": "010-0000-0000"}
        assert lookup(data, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy).status_code == 302
    data = {"ticket_number": "T-000800", "phone": "010-0000-0000"}
    assert lookup(data, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy).status_code == 429
    # Another customer behind the same proxy is not limited; a forged leftmost entry does
    # not change who the proxy says the client is.
    assert lookup(data, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy).status_code == 302
    forged = "198.51.100.1, 203.0.113.7"
    assert lookup(data, HTTP_X_FORWARDED_FOR=forged, **proxy).status_code == 429
    assert StatusCheck.objects.filter(client_ip="203.0.113.7").count() == 10


def test_without_trusted_proxies_the_header_is_ignored(client, org, lookup, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    data = {"ticket_number": "T-000700", "phone": "010-0000-0000"}
    lookup(data, HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="192.0.2.5")
    assert StatusCheck.objects.get().client_ip == "192.0.2.5"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isdigit() else c for c in text)


def test_the_per_case_limit_is_one_case_however_the_number_is_spelled(client, org, lookup):
    """271, 0000000271, T-000271 and ２７１ are one case: the fourth spelling is over the
    limit of 3 codes per case per hour (it went out as a fourth code before)."""
    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    spellings = [
        str(ticket.pk),
        f"{ticket.pk:010d}",
        f"T-{ticket.pk:06d}",
        _fullwidth(str(ticket.pk)),
        f"Ｔ－{_fullwidth(f'{ticket.pk:06d}')}",
        f" t {ticket.pk} ",
    ]
    answers = [
        lookup({"ticket_number": s, "phone": "010-1234-5678"}, REMOTE_ADDR=f"10.0.2.{i}")
        for i, s in enumerate(spellings)
    ]
    assert [a.status_code for a in answers] == [302, 302, 302, 429, 429, 429]
    assert SmsMessage.objects.filter(direction="outbound").count() == 3
    assert set(StatusCheck.objects.values_list("ticket_key", flat=True)) == {str(ticket.pk)}


@pytest.mark.parametrize("digit", ["²", "①", "٢", "۲", "२", "𝟐", "⑵", "㉑", "½"])
def test_non_ascii_digits_find_no_case_and_count_toward_the_address_limit(
    client, org, lookup, digit
):
    """Digits other than ASCII and full-width ones are not a case number: the same answer
    as a case that does not exist (no SMS), never a 500, and they use up the address's
    lookups like any other."""
    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    for i in range(STATUS_CHECKS_PER_IP_HOUR):
        number = [digit, f"T-{digit * 2}", digit * 3, f"{ticket.pk}{digit}", f"{digit}{ticket.pk}"][
            i % 5
        ]
        answer = lookup({"ticket_number": number, "phone": "010-1234-5678"})
        assert (answer.status_code, answer.url) == (302, "/status/code/")
    over = lookup({"ticket_number": ticket.number, "phone": "010-1234-5678"})
    assert over.status_code == 429
    assert not SmsMessage.objects.exists()
    assert not StatusCheck.objects.filter(ticket__isnull=False).exists()


def test_the_demo_customers_code_is_where_the_readme_sends_the_reader(
    client, org, lookup, django_user_model
):
    """README: admin → Simulator messages, action sms, is the customer's phone: the code
    reads there in the list; admin → Text messages keeps it masked."""
    from agents.models import Role

    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    lookup({"ticket_number": ticket.number, "phone": "010-1234-5678"})
    code = sent_code()
    admin = django_user_model.objects.create_superuser(
        "boss", password="x", display_name="관리자", role=Role.ADMIN, center=org.center
    )
    client.force_login(admin)
    phone = client.get("/admin/telephony/simulatormessage/", {"action": "sms"}).content.decode()
    assert f"{ticket.number} 조회 인증번호: {code}" in phone
    assert "+821012345678" not in phone  # the customer's number stays masked
    records = client.get("/admin/telephony/smsmessage/").content.decode()
    assert code not in records
