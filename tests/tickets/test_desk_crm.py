"""The desktop's CRM side: an unknown caller is created or linked, the customer's timeline
filters, tickets are searched and saved as views, changes are events, list pages keep
their query counts, and the periodic sweep is a Celery task."""

from django.urls import reverse

from telephony.models import Call
from telephony.services.calls import offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available
from tests.factories import TicketFactory
from tickets.models import Customer, CustomerPhone, SavedView, TicketEvent
from tickets.services.tickets import ticket_note_add


def live_call(org, number="+821033334444"):
    make_available(org.agent1)
    call = call_receive(sid=new_call_sid(), from_number=number, to_number=GENERAL_NUMBER)
    (offer,) = acd_route()
    offer_accept(agent=org.agent1, offer_id=offer.pk)
    return Call.objects.get(pk=call.pk)


def test_an_unknown_caller_is_created_with_a_name(client, org):
    call = live_call(org)
    assert call.customer is None
    client.force_login(org.agent1)
    page = client.get("/agents/desktop/").content.decode()
    assert 'id="link-customer"' in page
    response = client.post(
        reverse("desk:call-customer", args=[call.pk]), {"name": "김신규"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "김신규" in response.content.decode()
    call.refresh_from_db()
    assert (call.customer.name, call.customer.phone) == ("김신규", "+821033334444")


def test_an_unknown_caller_is_found_and_linked_and_their_number_is_kept(client, org):
    known = TicketFactory(team=org.team_a, customer__phone="+821099998888").customer
    call = live_call(org)
    client.force_login(org.agent1)
    found = client.get("/tickets/customers/search/", {"q": "홍길동", "call": call.pk})
    assert known.number in found.content.decode()
    client.post(reverse("desk:call-customer", args=[call.pk]), {"customer": known.pk})
    call.refresh_from_db()
    assert call.customer == known
    assert CustomerPhone.objects.get(customer=known).number == "+821033334444"
    # Someone else's call cannot be linked, nor to a customer the agent cannot see.
    client.force_login(org.agent2)
    assert (
        client.post(reverse("desk:call-customer", args=[call.pk]), {"name": "x"}).status_code == 409
    )
    hidden = TicketFactory(team=org.team_b, customer__phone="+821077770000").customer
    client.force_login(org.agent1)
    assert (
        client.post(
            reverse("desk:call-customer", args=[call.pk]), {"customer": hidden.pk}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("desk:call-customer", args=[call.pk]), {"customer": "x"}).status_code
        == 400
    )


def test_the_timeline_filters_by_kind(client, org):
    ticket = TicketFactory(team=org.team_a)
    ticket_note_add(actor=org.agent1, ticket=ticket, body="메모 하나")
    client.force_login(org.agent1)
    url = reverse("tickets:timeline", args=[ticket.customer_id])
    everything = client.get(url).content.decode()
    assert 'data-kind="ticket"' in everything and "메모 하나" in everything
    notes_only = client.get(url, {"kind": "note"}).content.decode()
    assert "메모 하나" in notes_only and '<li class="tl-ticket"' not in notes_only


def test_search_by_number_phone_and_text_and_saved_views(client, org):
    a = TicketFactory(
        team=org.team_a, customer__phone="+821012121212", subject="요금 문의", assignee=org.agent1
    )
    b = TicketFactory(
        team=org.team_a, customer__phone="+821034343434", subject="해지 문의", assignee=org.agent2
    )
    ticket_note_add(actor=org.agent2, ticket=b, body="위약금 설명함")
    client.force_login(org.agent1)

    def found(**params):
        body = client.get("/tickets/", params).content.decode()
        return {t.number for t in (a, b) if t.number in body}

    assert found(q=a.number) == {a.number}
    assert found(q="010-3434-3434") == {b.number}
    assert found(q="위약금") == {b.number}
    assert found(mine="on") == {a.number}
    client.post("/tickets/views/", {"name": "내 요금", "query": "mine=on&q=요금"})
    view = SavedView.objects.get(owner=org.agent1)
    assert view.query == "mine=on&q=요금"
    assert "내 요금" in client.get("/tickets/").content.decode()
    client.force_login(org.agent2)
    assert "내 요금" not in client.get("/tickets/").content.decode()


def test_every_change_is_an_event_with_old_and_new(client, org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    client.force_login(org.lead1)  # an agent may only assign to themself; the lead to the team
    response = client.post(
        f"/tickets/{ticket.pk}/update/",
        {
            "subject": "요금 문의",
            "status": "pending_customer",
            "priority": "urgent",
            "severity": "major",
            "assignee": org.agent2.pk,
        },
    )
    assert response.status_code == 302
    changes = set(
        TicketEvent.objects.filter(ticket=ticket, kind="changed").values_list(
            "field", "old_value", "new_value"
        )
    )
    assert changes == {
        ("status", "open", "pending_customer"),
        ("priority", "normal", "urgent"),
        ("severity", "minor", "major"),
        ("assignee", "agent1", "agent2"),
    }
    history = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "agent1" in history and "agent2" in history
    # Someone outside the viewer's scope is not a choice.
    response = client.post(
        f"/tickets/{ticket.pk}/update/",
        {
            "subject": "x",
            "status": "open",
            "priority": "low",
            "severity": "minor",
            "assignee": org.agent3.pk,
        },
    )
    assert response.status_code == 422


def test_list_pages_keep_their_query_counts(client, org, django_assert_max_num_queries):
    for i in range(15):
        TicketFactory(team=org.team_a, customer__phone=f"+8210555500{i:02d}", assignee=org.agent1)
    client.force_login(org.agent1)
    with django_assert_max_num_queries(12):
        assert client.get("/tickets/").status_code == 200
    client.force_login(org.lead1)
    with django_assert_max_num_queries(16):
        assert client.get("/agents/team/").status_code == 200


def test_the_sweep_is_a_celery_task(org):
    from tickets.tasks import tickets_sweep

    assert tickets_sweep.name == "tickets.tasks.tickets_sweep"
    from callcenter.settings import base  # the test settings switch beat off

    assert base.CELERY_BEAT_SCHEDULE["tickets-sweep"]["task"] == tickets_sweep.name
    tickets_sweep()  # runs the SLA sweep and the follow-up reminders in-process


def test_a_merged_customer_is_not_popped(org):
    from tickets.selectors import customer_for_phone

    target = Customer.objects.create(phone="+821000001111")
    dup = Customer.objects.create(phone="+821000002222", merged_into=target)
    assert customer_for_phone(dup.phone) is None


def test_the_customer_page_never_prints_the_email_unmasked(client, org):
    from tests.factories import TicketFactory
    from tickets.models import IdentifierView

    ticket = TicketFactory(team=org.team_a)
    customer = ticket.customer
    customer.email = "hong.gildong@example.com"
    customer.save()
    client.force_login(org.agent1)
    url = f"/tickets/customers/{customer.pk}/"
    page = client.get(url).content.decode()
    assert "hong.gildong@example.com" not in page and "h***********@example.com" in page
    assert not IdentifierView.objects.exists()
    update = f"/tickets/customers/{customer.pk}/update/"
    # Saving the form as printed (e-mail empty) keeps the address.
    assert client.post(update, {"name": "홍길순", "email": ""}).status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("홍길순", "hong.gildong@example.com")
    assert client.post(update, {"name": "홍길순", "email": "new@example.com"}).status_code == 302
    customer.refresh_from_db()
    assert customer.email == "new@example.com"
    both = {"name": "홍길순", "email": "x@example.com", "remove_email": "on"}
    assert client.post(update, both).status_code == 422
    assert client.post(update, {"name": "홍길순", "remove_email": "on"}).status_code == 302
    customer.refresh_from_db()
    assert customer.email == ""


def test_a_known_customer_without_a_name_is_shown_by_number_everywhere(client, org):
    customer = Customer.objects.create(phone="+821033334444", name="")
    ticket = TicketFactory(team=org.team_a, customer=customer)
    make_available(org.agent1)
    call_receive(sid=new_call_sid(), from_number="+821033334444", to_number=GENERAL_NUMBER)
    acd_route()
    client.force_login(org.agent1)
    offer = client.get(reverse("desk:desktop")).content.decode()
    assert f'<strong id="offer-caller">{customer.number}</strong>' in offer
    for page in (reverse("tickets:list"), reverse("tickets:detail", args=[ticket.pk])):
        body = client.get(page).content.decode()
        assert customer.number in body
        assert "Unknown caller" not in body and "미등록 고객" not in body


def test_the_desktop_marks_the_current_state_and_log_off_is_an_action(client, org):
    make_available(org.agent1)
    client.force_login(org.agent1)
    body = client.get(reverse("desk:desktop")).content.decode()
    assert 'id="btn-available" title="F2" aria-pressed="true"' in body
    assert 'id="btn-not-ready" title="F3" aria-pressed="false"' in body
    assert 'value="offline" id="btn-log-off"' in body


def test_the_customer_search_answers_any_text_without_an_error(client, org):
    """Found by review: "C-²" passed isdigit() and int() refused it (a 500)."""
    known = TicketFactory(team=org.team_a, customer__phone="+821099998888").customer
    client.force_login(org.agent1)
    for q in ["C-²", "C-١٢", f"C-{known.pk}", "C-" + "9" * 30, "%", "_", "'", "\\", "김" * 100]:
        response = client.get("/tickets/customers/search/", {"q": q})
        assert response.status_code == 200, q
    found = client.get("/tickets/customers/search/", {"q": f"c-{known.pk}"})
    assert known.number in found.content.decode()
