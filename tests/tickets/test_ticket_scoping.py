"""An agent cannot reach another team's ticket or customer by URL or API: 404 everywhere,
reads and writes alike, and nothing changes."""

import pytest

from tests.factories import TicketFactory
from tickets.models import TicketEvent, TicketNote


@pytest.fixture
def other(org):
    return TicketFactory(team=org.team_b)


PAGES_GET = ["/tickets/{t}/", "/tickets/customers/{c}/", "/tickets/customers/{c}/timeline/"]
PAGES_POST = [
    ("/tickets/{t}/update/", {"subject": "x", "status": "closed", "priority": "low"}),
    ("/tickets/{t}/notes/", {"body": "메모"}),
    ("/tickets/{t}/escalate/", {"reason": "상관 바꿔"}),
    ("/tickets/{t}/merge/", {"target": "T-000001"}),
    ("/tickets/{t}/followups/", {"due_at": "2030-01-01T10:00", "note": "x"}),
    ("/tickets/customers/{c}/reveal/", {"field": "phone"}),
    ("/tickets/customers/{c}/notes/", {"body": "메모"}),
    ("/tickets/customers/{c}/merge/", {"target": "C-000001"}),
]
API = [
    ("get", "/api/tickets/{t}/", None),
    ("get", "/api/tickets/{t}/notes/", None),
    ("post", "/api/tickets/{t}/notes/", {"body": "메모"}),
    ("patch", "/api/tickets/{t}/", {"status": "closed"}),
    ("get", "/api/customers/{c}/", None),
]


def fill(path, ticket):
    return path.format(t=ticket.pk, c=ticket.customer_id)


@pytest.mark.parametrize("path", PAGES_GET)
def test_pages_of_another_team_are_404(client, org, other, path):
    client.force_login(org.agent1)
    assert client.get(fill(path, other)).status_code == 404


@pytest.mark.parametrize(("path", "data"), PAGES_POST)
def test_writes_to_another_teams_ticket_are_404_and_change_nothing(client, org, other, path, data):
    client.force_login(org.agent1)
    events = TicketEvent.objects.count()
    assert client.post(fill(path, other), data).status_code == 404
    assert TicketEvent.objects.count() == events
    assert not TicketNote.objects.exists()


@pytest.mark.parametrize(("method", "path", "data"), API)
def test_the_api_answers_404_for_another_teams_ticket(client, org, other, method, path, data):
    client.force_login(org.agent1)
    kwargs = {"data": data, "content_type": "application/json"} if data else {}
    response = getattr(client, method)(fill(path, other), **kwargs)
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == "open"


def test_the_owning_team_and_the_manager_see_it(client, org, other):
    client.force_login(org.agent3)
    assert client.get(f"/tickets/{other.pk}/").status_code == 200
    assert client.get(f"/api/tickets/{other.pk}/notes/").status_code == 200
    client.force_login(org.manager)
    assert client.get(f"/api/tickets/{other.pk}/").status_code == 200


def test_search_and_the_list_api_only_return_visible_tickets(client, org, other):
    mine = TicketFactory(team=org.team_a, customer__phone="+821077778888", subject="요금 문의")
    client.force_login(org.agent1)
    ids = [t["id"] for t in client.get("/api/tickets/?q=요금").json()]
    assert ids == [mine.pk]
    page = client.get("/tickets/?q=요금").content.decode()
    assert mine.number in page and other.number not in page
    found = client.get("/api/customers/?q=홍길동").json()
    assert [(c["id"], c["number"]) for c in found] == [(mine.customer_id, mine.customer.number)]
    assert "phone" not in found[0]  # identifiers are shown (and audited) on the page only


def test_bad_input_is_a_clear_4xx(client, org):
    ticket = TicketFactory(team=org.team_a)
    client.force_login(org.agent1)
    assert client.get("/api/tickets/?status=nonsense").status_code == 400
    assert client.get("/api/customers/").status_code == 400
    response = client.patch(
        f"/api/tickets/{ticket.pk}/", {"priority": "ultra"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert client.post(f"/tickets/{ticket.pk}/merge/", {"target": "abc"}).status_code == 422
    assert client.post(f"/tickets/{ticket.pk}/notes/", {"body": ""}).status_code == 422
    assert (
        client.post(f"/tickets/customers/{ticket.customer_id}/reveal/", {"field": "x"}).status_code
        == 400
    )
