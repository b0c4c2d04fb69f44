"""A partial or empty POST never wipes a record: a field left out of an update stays as it
is, an empty POST changes nothing and is a form error, and every change to a customer is in
the customer's history (who, when, old → new), shown on the customer page."""

import re

import pytest
from django.core.exceptions import ValidationError

from tests.factories import TicketFactory
from tickets.models import CustomerEvent, TicketCategory, TicketEvent
from tickets.services.customers import customer_update


def vip_customer(org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    customer = ticket.customer
    customer.name, customer.is_vip, customer.email = "홍길동", True, "hong@example.com"
    customer.save()
    return ticket, customer


def update_url(customer):
    return f"/tickets/customers/{customer.pk}/update/"


def test_a_customer_post_without_name_and_vip_keeps_them(client, org):
    _, customer = vip_customer(org)
    client.force_login(org.agent1)
    response = client.post(update_url(customer), {"email": "new@example.com"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.is_vip, customer.email) == (
        "홍길동",
        True,
        "new@example.com",
    )


def test_a_customer_post_with_only_the_vip_box_keeps_the_name(client, org):
    _, customer = vip_customer(org)
    customer.is_vip = False
    customer.save()
    client.force_login(org.agent1)
    assert client.post(update_url(customer), {"is_vip": "on"}).status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.is_vip, customer.email) == ("홍길동", True, "hong@example.com")


def test_an_empty_customer_post_changes_nothing_and_is_a_form_error(client, org):
    _, customer = vip_customer(org)
    client.force_login(org.agent1)
    response = client.post(update_url(customer), {})
    assert response.status_code == 422
    assert "변경할 내용이 없습니다." in response.content.decode()
    customer.refresh_from_db()
    assert (customer.name, customer.is_vip, customer.email) == ("홍길동", True, "hong@example.com")
    assert not CustomerEvent.objects.filter(customer=customer).exists()


def test_a_sent_but_blank_name_is_an_error_not_a_wipe(client, org):
    _, customer = vip_customer(org)
    client.force_login(org.agent1)
    response = client.post(update_url(customer), {"name": "  ", "is_vip": "0"})
    assert response.status_code == 422
    customer.refresh_from_db()
    assert (customer.name, customer.is_vip) == ("홍길동", True)


def test_the_page_form_unticks_vip_through_its_hidden_zero(client, org):
    """The page's own form, posted as a browser would with the box unticked, clears VIP."""
    _, customer = vip_customer(org)
    client.force_login(org.agent1)
    page = client.get(f"/tickets/customers/{customer.pk}/").content.decode()
    form = page[page.index(update_url(customer)) :]
    form = form[: form.index("</form>")]
    hidden = re.search(r'<input type="hidden" name="is_vip" value="0">', form)
    box = re.search(r'<input type="checkbox" name="is_vip"[^>]*checked', form)
    assert hidden and box and hidden.start() < box.start()
    sent = {"name": "홍길동", "email": "", "is_vip": "0"}  # unticked: only the hidden value
    assert client.post(update_url(customer), sent).status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.is_vip, customer.email) == ("홍길동", False, "hong@example.com")
    ticked = {"name": "홍길동", "is_vip": ["0", "on"]}
    assert client.post(update_url(customer), ticked).status_code == 302
    customer.refresh_from_db()
    assert customer.is_vip


def test_every_customer_change_is_in_its_history_and_on_its_page(client, org):
    _, customer = vip_customer(org)
    other = TicketFactory(
        team=org.team_a, customer__phone="+821077778888"
    ).customer  # a duplicate lead1 may see
    client.force_login(org.lead1)
    url = update_url(customer)
    assert client.post(url, {"name": "홍길순", "is_vip": "0"}).status_code == 302
    assert client.post(url, {"email": "gilsoon@example.com"}).status_code == 302
    phones = f"/tickets/customers/{customer.pk}/phones/"
    assert client.post(phones, {"phone": "010-2222-3333", "label": "회사"}).status_code == 302
    notes = f"/tickets/customers/{customer.pk}/notes/"
    assert client.post(notes, {"body": "주말에만 통화 가능"}).status_code == 302
    merge = f"/tickets/customers/{other.pk}/merge/"
    assert client.post(merge, {"target": customer.number}).status_code == 302

    events = list(
        CustomerEvent.objects.filter(customer=customer)
        .order_by("at", "id")
        .values_list("actor__username", "kind", "field", "old_value", "new_value")
    )
    assert events == [
        ("lead1", "changed", "name", "홍길동", "홍길순"),
        ("lead1", "changed", "is_vip", "VIP", ""),
        # identifiers stay masked in the history, as the page shows them
        ("lead1", "changed", "email", "h***@example.com", "g******@example.com"),
        ("lead1", "phone_added", "phone", "", "010-****-3333"),
        ("lead1", "note_added", "", "", ""),
        ("lead1", "merged_from", "", other.number, ""),
    ]
    assert CustomerEvent.objects.get(customer=other).kind == "merged_into"
    assert all(e.at for e in CustomerEvent.objects.all())
    page = client.get(f"/tickets/customers/{customer.pk}/").content.decode()
    history = page[page.index('id="customer-history"') :]
    assert "홍길순" in history and "g******@example.com" in history
    assert "gilsoon@example.com" not in page


def test_the_customer_service_changes_only_what_it_is_given(org):
    _, customer = vip_customer(org)
    customer_update(actor=org.agent1, customer=customer, changes={"email": ""})
    customer.refresh_from_db()
    assert (customer.name, customer.is_vip, customer.email) == ("홍길동", True, "")
    with pytest.raises(ValidationError):
        customer_update(actor=org.agent1, customer=customer, changes={})


def test_a_ticket_post_without_assignee_and_category_keeps_them(client, org):
    category = TicketCategory.objects.create(department=org.team_a.department, name="요금")
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1, category=category)
    client.force_login(org.lead1)
    sent = {"subject": "요금 문의", "status": "pending_customer", "priority": "high"}
    response = client.post(f"/tickets/{ticket.pk}/update/", sent)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.category_id, ticket.severity) == (
        org.agent1.pk,
        category.pk,
        "minor",
    )
    assert (ticket.status, ticket.priority) == ("pending_customer", "high")
    assert client.post(f"/tickets/{ticket.pk}/update/", {"status": "open"}).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.status, ticket.assignee_id) == (
        "요금 문의",
        "open",
        org.agent1.pk,
    )


def test_an_empty_ticket_post_changes_nothing(client, org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    client.force_login(org.lead1)
    assert client.post(f"/tickets/{ticket.pk}/update/", {}).status_code == 422
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.assignee_id) == ("요금 문의", org.agent1.pk)
    assert not TicketEvent.objects.filter(ticket=ticket).exists()


def test_a_ticket_post_with_a_blank_subject_is_refused(client, org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    client.force_login(org.lead1)
    assert client.post(f"/tickets/{ticket.pk}/update/", {"subject": ""}).status_code == 422
    ticket.refresh_from_db()
    assert ticket.subject == "요금 문의"


def test_an_api_patch_changes_only_what_it_names_and_an_empty_one_is_a_400(client, org):
    category = TicketCategory.objects.create(department=org.team_a.department, name="요금")
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1, category=category)
    client.force_login(org.lead1)
    url = f"/api/tickets/{ticket.pk}/"
    empty = client.patch(url, {}, content_type="application/json")
    assert empty.status_code == 400
    assert not TicketEvent.objects.filter(ticket=ticket).exists()
    only_pii_action = client.patch(url, {"pii_action": "mask"}, content_type="application/json")
    assert only_pii_action.status_code == 400
    response = client.patch(url, {"priority": "high"}, content_type="application/json")
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee_id, ticket.category_id, ticket.subject) == (
        "high",
        org.agent1.pk,
        category.pk,
        "요금 문의",
    )
    fields = TicketEvent.objects.filter(ticket=ticket, kind="changed").values_list("field")
    assert list(fields) == [("priority",)]
