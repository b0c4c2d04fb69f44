"""Every free text that is stored is guarded, beyond notes and subjects: a customer's name,
a saved search's name, the name given to a new caller on the desk, a team lead's comment
on a monthly sheet (the writer sees what was found and chooses), and an inbound text
message (masked on arrival: no one is there to choose)."""

from django.urls import reverse

from tests.conftest import post_signed
from tests.factories import TicketFactory
from tests.kpi.test_performance_sheets import month, sheet  # noqa: F401 (month is a fixture)
from tests.tickets.test_desk_crm import live_call
from tickets.models import Customer, PiiDetection, SavedView

RRN_FULL_WIDTH = "９００１０１－１２３４５６７"


def test_a_customer_name_with_an_identifier_is_shown_then_saved_masked(client, org):
    customer = TicketFactory(team=org.team_a, assignee=org.agent1).customer
    client.force_login(org.agent1)
    url = f"/tickets/customers/{customer.pk}/update/"
    data = {"name": f"홍길동 {RRN_FULL_WIDTH}"}
    first = client.post(url, data)
    assert first.status_code == 422
    body = first.content.decode()
    assert 'id="pii-findings"' in body and "900101-1******" in body
    assert 'name="pii_action" value="mask"' in body
    customer.refresh_from_db()
    assert customer.name == "홍길동"
    assert client.post(url, {**data, "pii_action": "mask"}).status_code == 302
    customer.refresh_from_db()
    assert customer.name == "홍길동 900101-1******"
    assert PiiDetection.objects.get().field == "name"


def test_a_saved_search_name_is_guarded(client, org):
    client.force_login(org.agent1)
    data = {"name": "010.9876.5432 고객 건", "query": "q=%ED%99%8D"}
    first = client.post("/tickets/views/", data)
    assert first.status_code == 422
    body = first.content.decode()
    assert 'id="pii-findings"' in body and "***.****.5432" in body
    assert 'name="query" value="q=%ED%99%8D"' in body
    assert not SavedView.objects.exists()
    assert client.post("/tickets/views/", {**data, "pii_action": "mask"}).status_code == 302
    assert SavedView.objects.get().name == "***.****.5432 고객 건"
    assert client.post("/tickets/views/", {"name": "미해결 VIP", "query": ""}).status_code == 302


def test_a_search_for_a_phone_number_is_not_kept_as_a_saved_view(client, org):
    client.force_login(org.agent1)
    data = {"name": "그 고객", "query": "q=010-9876-5432&status=open"}
    response = client.post("/tickets/views/", data)
    assert response.status_code == 400
    assert "***-****-5432" in response.content.decode()
    assert "9876" not in response.content.decode()
    assert not SavedView.objects.exists()


def test_a_new_callers_name_on_the_desk_may_not_hold_an_identifier(client, org):
    call = live_call(org)
    client.force_login(org.agent1)
    url = reverse("desk:call-customer", args=[call.pk])
    response = client.post(url, {"name": "김신규 4539 1488 0343 6467"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "4539 14** **** 6467" in response.content.decode()
    assert not Customer.objects.exists()
    assert client.post(url, {"name": "김신규"}, HTTP_HX_REQUEST="true").status_code == 200
    assert Customer.objects.get().name == "김신규"


def test_a_customer_texting_their_rrn_back_is_stored_masked(client, org):
    from telephony.models import SmsMessage

    params = {
        "MessageSid": "SM" + "c3" * 16,
        "AccountSid": "AC" + "0" * 32,
        "From": "010-5555-6666",
        "To": "+8225550103",
        "Body": f"제 주민번호 {RRN_FULL_WIDTH} 이고 카드는 4539\n1488\n0343\n6467 입니다",
        "NumMedia": "0",
    }
    assert post_signed(client, "/telephony/sms/incoming/", params).status_code == 200
    body = SmsMessage.objects.get().body
    assert body == "제 주민번호 900101-1****** 이고 카드는 4539 14** **** 6467 입니다"


def test_the_team_leads_comment_on_a_monthly_sheet_is_guarded(client, org, month):  # noqa: F811
    from kpi import performance

    performance.performance_sheets_compute(month=month)
    client.force_login(org.lead1)
    url = f"/kpi/evaluations/{sheet(org, 'agent1').pk}/"
    data = {"comment": "고객 010 9876 5432 응대 우수"}
    first = client.post(url, data)
    assert first.status_code == 422
    body = first.content.decode()
    assert 'id="pii-findings"' in body and 'name="pii_action" value="mask"' in body
    assert "고객 010 9876 5432 응대 우수</textarea>" in body
    assert sheet(org, "agent1").lead_comment == ""
    assert client.post(url, {**data, "pii_action": "mask"}).status_code == 302
    assert sheet(org, "agent1").lead_comment == "고객 *** **** 5432 응대 우수"
    assert PiiDetection.objects.get(agent=org.lead1).kind == "phone"
