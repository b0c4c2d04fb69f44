"""The PII guard on every free-text field an agent writes: ticket notes, customer notes,
new tickets, escalation reasons, requests to the team lead, and the notes API. And
viewing an unmasked identifier is audited."""

from agents.models import ApprovalRequest
from tests.factories import TicketFactory
from tickets.models import (
    CustomerNote,
    IdentifierView,
    PiiDetection,
    Ticket,
    TicketNote,
)

CARD = "4111 1111 1111 1111"


def test_a_card_number_in_a_ticket_note_is_shown_then_saved_masked(client, org):
    ticket = TicketFactory(team=org.team_a)
    client.force_login(org.agent1)
    first = client.post(f"/tickets/{ticket.pk}/notes/", {"body": f"카드 {CARD} 로 결제"})
    assert first.status_code == 422
    body = first.content.decode()
    assert 'id="pii-findings"' in body and "4111 11** **** 1111" in body
    assert not TicketNote.objects.exists()
    second = client.post(
        f"/tickets/{ticket.pk}/notes/", {"body": f"카드 {CARD} 로 결제", "pii_action": "mask"}
    )
    assert second.status_code == 302
    assert TicketNote.objects.get().body == "카드 4111 11** **** 1111 로 결제"
    detection = PiiDetection.objects.get()
    assert (detection.kind, detection.field, detection.ticket_id) == ("card", "body", ticket.pk)


def test_customer_notes_and_new_tickets_are_guarded(client, org):
    ticket = TicketFactory(team=org.team_a)
    customer = ticket.customer
    client.force_login(org.agent1)
    url = f"/tickets/customers/{customer.pk}/notes/"
    assert client.post(url, {"body": "주민번호 900101-1234567"}).status_code == 422
    assert not CustomerNote.objects.exists()
    client.post(url, {"body": "주민번호 900101-1234567", "pii_action": "mask"})
    assert CustomerNote.objects.get().body == "주민번호 900101-1******"

    url = f"/tickets/customers/{customer.pk}/tickets/"
    data = {"subject": "환불 계좌 110-123-456789", "priority": "normal", "severity": "minor"}
    assert client.post(url, data).status_code == 422
    assert Ticket.objects.count() == 1
    assert client.post(url, {**data, "pii_action": "mask"}).status_code == 302
    assert Ticket.objects.latest("pk").subject == "환불 계좌 ***-***-**6789"
    assert set(PiiDetection.objects.values_list("kind", flat=True)) == {"rrn", "account"}


def test_escalation_reasons_and_requests_are_guarded(client, org):
    ticket = TicketFactory(team=org.team_a)
    client.force_login(org.agent1)
    url = f"/tickets/{ticket.pk}/escalate/"
    assert client.post(url, {"reason": "고객 메일 a.b@example.com"}).status_code == 422
    assert not ApprovalRequest.objects.exists()
    client.post(url, {"reason": "고객 메일 a.b@example.com", "pii_action": "mask"})
    assert ApprovalRequest.objects.get().reason == "고객 메일 a**@example.com"

    data = {"kind": "refund", "reason": "다른 번호 010-9876-5432", "amount": "50000"}
    assert client.post("/agents/requests/", data).status_code == 422
    client.post("/agents/requests/", {**data, "pii_action": "mask"})
    assert ApprovalRequest.objects.get(kind="refund").reason == "다른 번호 ***-****-5432"


def test_the_notes_api_reports_findings_and_masks_on_request(client, org):
    ticket = TicketFactory(team=org.team_a)
    client.force_login(org.agent1)
    url = f"/api/tickets/{ticket.pk}/notes/"
    response = client.post(url, {"body": f"카드 {CARD}"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["pii"] == [
        {"field": "body", "kind": "card", "masked": "4111 11** **** 1111"}
    ]
    assert not TicketNote.objects.exists()
    response = client.post(
        url, {"body": f"카드 {CARD}", "pii_action": "mask"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["body"] == "카드 4111 11** **** 1111"


def test_pages_mask_identifiers_and_showing_one_is_audited(client, org):
    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    client.force_login(org.agent1)
    page = client.get(f"/tickets/customers/{ticket.customer_id}/").content.decode()
    assert "010-****-5678" in page and "010-1234-5678" not in page
    response = client.post(f"/tickets/customers/{ticket.customer_id}/reveal/", {"field": "phone"})
    assert "010-1234-5678" in response.content.decode()
    view = IdentifierView.objects.get()
    assert (view.viewer, view.customer_id, view.field) == (org.agent1, ticket.customer_id, "phone")


def test_the_ticket_api_changes_fields_as_events_and_guards_the_subject(client, org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    client.force_login(org.agent1)
    url = f"/api/tickets/{ticket.pk}/"
    response = client.patch(
        url, {"status": "pending_customer", "priority": "high"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["priority"]) == ("pending_customer", "high")
    assert response.json()["sla_state"] == ""  # no SLA policy in this center
    response = client.patch(
        url, {"subject": "연락처 010-9876-5432"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["pii"][0]["kind"] == "phone"
    response = client.patch(
        url,
        {"subject": "연락처 010-9876-5432", "pii_action": "mask"},
        content_type="application/json",
    )
    assert response.json()["subject"] == "연락처 ***-****-5432"
    fields = set(Ticket.objects.get().events.values_list("field", flat=True))
    assert {"status", "priority", "subject"} <= fields


def test_any_number_on_the_customers_record_is_not_a_finding(client, org):
    from tickets.models import CustomerPhone

    ticket = TicketFactory(team=org.team_a, customer__phone="+821012345678")
    CustomerPhone.objects.create(customer=ticket.customer, number="+82212345678", label="회사")
    client.force_login(org.agent1)
    url = f"/tickets/{ticket.pk}/notes/"
    assert client.post(url, {"body": "회사 번호 02-1234-5678 로 회신"}).status_code == 302
    assert client.post(url, {"body": "다른 번호 02-9876-5432 로 회신"}).status_code == 422
    assert not PiiDetection.objects.exists()


def test_identifiers_with_korean_particles_glued_are_caught_in_a_note(client, org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    client.force_login(org.agent1)
    text = "카드번호는 4111111111111111이고 주민번호는 900101-1234567입니다"
    assert client.post(f"/tickets/{ticket.pk}/notes/", {"body": text}).status_code == 422
    assert not TicketNote.objects.exists()
    saved = client.post(f"/tickets/{ticket.pk}/notes/", {"body": text, "pii_action": "mask"})
    assert saved.status_code == 302
    assert (
        TicketNote.objects.get().body
        == "카드번호는 411111******1111이고 주민번호는 900101-1******입니다"
    )


def test_follow_up_notes_are_guarded(client, org):
    from datetime import timedelta

    from django.utils import timezone

    from tickets.models import FollowUpTask

    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    client.force_login(org.agent1)
    due = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    data = {"due_at": due, "note": "주민번호 900101-1234567 확인 후 전화"}
    first = client.post(f"/tickets/{ticket.pk}/followups/", data)
    assert first.status_code == 422 and 'id="pii-findings"' in first.content.decode()
    assert not FollowUpTask.objects.exists()
    second = client.post(f"/tickets/{ticket.pk}/followups/", {**data, "pii_action": "mask"})
    assert second.status_code == 302
    assert FollowUpTask.objects.get().note == "주민번호 900101-1****** 확인 후 전화"
    assert PiiDetection.objects.get().field == "note"


def test_a_phone_label_is_guarded(client, org):
    ticket = TicketFactory(team=org.team_a)
    client.force_login(org.agent1)
    url = f"/tickets/customers/{ticket.customer_id}/phones/"
    data = {"phone": "010-9876-5432", "label": "카드 4111111111111111"}
    first = client.post(url, data)
    assert first.status_code == 422 and 'id="pii-findings"' in first.content.decode()
    assert not ticket.customer.phones.exists()
    assert client.post(url, {**data, "pii_action": "mask"}).status_code == 302
    assert ticket.customer.phones.get().label == "카드 411111******1111"


def test_the_team_leads_decision_note_is_guarded(client, org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    client.force_login(org.agent1)
    client.post(f"/tickets/{ticket.pk}/escalate/", {"reason": "권한 밖"})
    req = ApprovalRequest.objects.get(ticket=ticket)
    client.force_login(org.lead1)
    url = f"/agents/requests/{req.pk}/decide/"
    data = {"decision": "deny", "note": "고객 010-9876-5432로 직접"}
    first = client.post(url, data, HTTP_HX_REQUEST="true")
    assert first.status_code == 422
    body = first.content.decode()
    assert 'id="pii-findings"' in body and 'value="고객 010-9876-5432로 직접"' in body
    req.refresh_from_db()
    assert req.status == "pending" and req.decision_note == ""
    assert (
        client.post(url, {**data, "pii_action": "mask"}, HTTP_HX_REQUEST="true").status_code == 200
    )
    req.refresh_from_db()
    assert (req.status, req.decision_note) == ("denied", "고객 ***-****-5432로 직접")
    assert PiiDetection.objects.get(agent=org.lead1).kind == "phone"
