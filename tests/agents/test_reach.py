"""agents.reach and the visibility built on it, role by role: agent self, team lead team,
manager departments, director and training lead the center. Pages and API use the same rules."""

import pytest
from django.http import Http404

from agents.models import Role
from agents.reach import (
    Reach,
    departments_visible_to,
    people_visible_to,
    person_get_for,
    reach_of,
    teams_visible_to,
)
from agents.roles import CAPABILITIES, can, roles_assignable_by
from kpi.scopes import KpiScope, kpi_scopes_visible_to
from telephony.selectors import calls_visible_to
from telephony.services.calls import call_hangup, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.services.wrapup import wrapup_submit
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available
from tests.factories import PersonFactory, TicketFactory
from tickets.models import TicketStatus
from tickets.selectors import ticket_get_for, tickets_visible_to


def names(qs):
    return {p.username for p in qs}


def test_an_agent_sees_only_themself(org):
    assert names(people_visible_to(org.agent1)) == {"agent1"}
    assert kpi_scopes_visible_to(org.agent1) == [
        KpiScope(
            "agent",
            org.agent1.pk,
            "agent1",
            department_id=org.general.pk,
            team_id=org.team_a.pk,
        )
    ]
    assert not teams_visible_to(org.agent1).exists()


def test_a_team_lead_sees_their_team_only(org):
    assert names(people_visible_to(org.lead1)) == {"lead1", "agent1", "agent2"}
    assert list(teams_visible_to(org.lead1)) == [org.team_a]
    kinds = {(s.kind, s.id) for s in kpi_scopes_visible_to(org.lead1)}
    assert kinds == {("team", org.team_a.pk), ("agent", org.agent1.pk), ("agent", org.agent2.pk)}


def test_a_manager_sees_their_departments(org):
    seen = names(people_visible_to(org.manager))
    assert seen == {"manager1", "lead1", "lead2", "agent1", "agent2", "agent3"}
    assert list(departments_visible_to(org.manager)) == [org.general]
    assert "agent4" not in seen


@pytest.mark.parametrize("who", ["director", "trainer"])
def test_director_and_training_lead_see_the_center(org, who):
    person = getattr(org, who)
    assert {"agent1", "agent3", "agent4", "lead3", "manager1"} <= names(people_visible_to(person))
    kinds = [s.kind for s in kpi_scopes_visible_to(person)]
    assert kinds[0] == "center" and kinds.count("department") == 2 and kinds.count("team") == 3


def test_person_get_for_404s_outside_scope(org):
    assert person_get_for(org.lead1, org.agent1.pk) == org.agent1
    with pytest.raises(Http404):
        person_get_for(org.lead1, org.agent3.pk)
    with pytest.raises(Http404):
        person_get_for(org.agent1, org.agent2.pk)


def _handled_call(agent):
    call = call_receive(sid=new_call_sid(), from_number="+821033334444", to_number=GENERAL_NUMBER)
    make_available(agent)
    (offer,) = acd_route()
    offer_accept(agent=agent, offer_id=offer.pk)
    call_hangup(agent=agent, call_id=call.pk)
    wrapup_submit(
        agent=agent,
        call_id=call.pk,
        disposition_id=call.department.dispositions.first().pk,
        note="n",
        subject="s",
    )
    call.refresh_from_db()
    return call


def test_calls_and_tickets_follow_the_chart(org):
    call = _handled_call(org.agent3)  # team B
    assert list(calls_visible_to(org.agent3)) == [call]
    assert not calls_visible_to(org.agent1).exists()
    assert not calls_visible_to(org.lead1).exists()
    assert list(calls_visible_to(org.lead2)) == [call]
    assert list(calls_visible_to(org.manager)) == [call]
    assert list(calls_visible_to(org.director)) == [call]
    assert not tickets_visible_to(org.agent1).exists()
    with pytest.raises(Http404):
        ticket_get_for(org.agent1, call.ticket_id)
    assert ticket_get_for(org.agent3, call.ticket_id) == call.ticket


def test_another_teams_ticket_is_404_by_url_and_api(client, org):
    ticket = TicketFactory(team=org.team_b, subject="x", status=TicketStatus.NEW)
    client.force_login(org.agent1)
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 404
    assert client.get(f"/api/tickets/{ticket.pk}/").status_code == 404
    client.force_login(org.agent3)
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 200
    assert client.get(f"/api/tickets/{ticket.pk}/").json()["number"] == ticket.number


def test_the_people_api_uses_the_same_scoping(client, org):
    client.force_login(org.lead1)
    assert {p["username"] for p in client.get("/api/people/").json()} == {
        "lead1",
        "agent1",
        "agent2",
    }


def test_each_role_lands_on_its_home(client, org):
    for person, target in [
        (org.agent1, "/agents/desktop/"),
        (org.lead1, "/agents/team/"),
        (org.manager, "/kpi/"),
        (org.director, "/kpi/"),
    ]:
        client.force_login(person)
        assert client.get("/")["Location"] == target


def test_pages_render_for_every_role(client, org):
    _handled_call(org.agent1)
    for person in [org.agent1, org.lead1, org.manager, org.director, org.trainer]:
        client.force_login(person)
        for url in [
            "/agents/org/",
            "/agents/people/",
            "/kpi/",
            "/tickets/",
            "/qa/recordings/",
            "/agents/team/",
        ]:
            assert client.get(url).status_code == 200, (person.username, url)
    client.force_login(org.agent1)
    assert client.get("/agents/desktop/").status_code == 200
    assert client.get("/api/schema/").status_code == 200


def test_each_person_reaches_exactly_one_level(org):
    assert reach_of(org.agent1) == Reach(org.agent1.pk)
    assert reach_of(org.lead1) == Reach(org.lead1.pk, team_id=org.team_a.pk)
    assert reach_of(org.manager) == Reach(org.manager.pk, managed_by=org.manager.pk)
    for person in [org.director, org.trainer]:
        assert reach_of(person) == Reach(person.pk, center_id=org.center.pk)
    root = PersonFactory(
        username="root", role=Role.AGENT, center=org.center, team=org.team_a, is_superuser=True
    )
    assert reach_of(root) == Reach(root.pk, center_id=org.center.pk)


def test_a_superuser_may_do_what_any_role_may_but_takes_calls_only_by_role(org):
    root = PersonFactory(username="root", role=Role.MANAGER, is_superuser=True)
    assert all(can(root, capability) for capability in CAPABILITIES if capability != "take_calls")
    assert not can(root, "take_calls")
    assert can(org.agent1, "take_calls") and not can(org.agent1, "supervise")
    assert roles_assignable_by(root) == tuple(Role)
    assert roles_assignable_by(org.manager) == (Role.AGENT, Role.TEAM_LEAD)
    assert roles_assignable_by(org.agent1) == ()
