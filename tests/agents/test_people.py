"""Adding, editing and moving people: one form in the admin and on the roster (issue 18,
item 14). Rules: agents and team leads have a team, a supervisor fits the team, employee
numbers are unique, a manager works inside their departments; moving someone to another
team moves their 실장 with them."""

import re

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from agents.models import Person, Role
from agents.services import people
from agents.services.states import agent_set_state
from tests.factories import PersonFactory


@pytest.fixture
def superuser(org):
    return PersonFactory(
        username="boss", role=Role.ADMIN, center=org.center, is_staff=True, is_superuser=True
    )


def _as(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _form(org, **over) -> dict:
    data = {
        "display_name": "신입 상담원",
        "username": "newbie",
        "employee_no": "S9001",
        "role": Role.AGENT,
        "team": org.team_b.pk,
        "reports_to": "",
        f"skill_{org.q_general.pk}": "7",
    }
    return {**data, **over}


def test_admin_add_creates_the_person_in_their_team_with_their_lead_and_skills(org, superuser):
    admin = _as(superuser)
    assert admin.get(reverse("admin:agents_person_add")).status_code == 200

    response = admin.post(reverse("admin:agents_person_add"), _form(org))

    assert response.status_code == 302
    person = Person.objects.get(username="newbie")
    assert response["Location"] == reverse("admin:agents_person_signin_link", args=[person.pk])
    assert (person.team, person.reports_to, person.center) == (org.team_b, org.lead2, org.center)
    assert person.employee_no == "S9001" and person.display_name == "신입 상담원"
    assert list(person.skills.values_list("queue_id", "proficiency")) == [(org.q_general.pk, 7)]
    assert not person.has_usable_password()  # nobody typed a password for them


def test_admin_add_without_a_team_is_a_form_error_not_a_500(org, superuser):
    response = _as(superuser).post(reverse("admin:agents_person_add"), _form(org, team=""))

    assert response.status_code == 422
    assert "team" in response.context["form"].errors
    assert not Person.objects.filter(username="newbie").exists()


def test_admin_sign_in_link_lets_the_new_person_choose_a_password_and_sign_in(org, superuser):
    admin = _as(superuser)
    admin.post(reverse("admin:agents_person_add"), _form(org))
    person = Person.objects.get(username="newbie")

    page = admin.post(reverse("admin:agents_person_signin_link", args=[person.pk]))

    link = re.search(r'<code class="reset-link">([^<]+)</code>', page.content.decode())[1]
    newcomer = Client()
    form = newcomer.get(link.removeprefix(settings.PUBLIC_BASE_URL), follow=True)
    newcomer.post(
        form.redirect_chain[-1][0],
        {"new_password1": "first-passphrase-18", "new_password2": "first-passphrase-18"},
    )
    signed_in = Client().post("/login/", {"username": "newbie", "password": "first-passphrase-18"})
    assert signed_in["Location"] == reverse("home")


def test_director_adds_a_person_on_the_roster_anywhere_in_the_center(client, org):
    director = _as(org.director)
    assert 'id="person-add"' in director.get(reverse("agents:roster")).content.decode()

    response = director.post(
        reverse("agents:person-add"),
        _form(org, team=org.team_c.pk, **{f"skill_{org.q_signup.pk}": "4"}),
    )

    person = Person.objects.get(username="newbie")
    assert response["Location"] == reverse("agents:person-signin-link", args=[person.pk])
    assert (person.team, person.reports_to) == (org.team_c, org.lead3)
    assert dict(person.skills.values_list("queue_id", "proficiency")) == {
        org.q_general.pk: 7,
        org.q_signup.pk: 4,
    }
    # In the org chart and the roster, like everyone else.
    assert "신입 상담원" in director.get(reverse("agents:org-chart")).content.decode()
    assert "신입 상담원" in _as(org.lead3).get(reverse("agents:roster")).content.decode()


def test_manager_adds_into_their_departments_only(org):
    manager = _as(org.manager)
    form = manager.get(reverse("agents:person-add")).context["form"]
    assert set(form.fields["team"].queryset) == {org.team_a, org.team_b}
    assert [q.pk for q in form.queues] == [org.q_general.pk]

    other = manager.post(reverse("agents:person-add"), _form(org, team=org.team_c.pk))
    assert other.status_code == 422 and "team" in other.context["form"].errors
    assert not Person.objects.filter(username="newbie").exists()

    foreign_skill = manager.post(
        reverse("agents:person-add"), _form(org, **{f"skill_{org.q_signup.pk}": "9"})
    )
    ok = Person.objects.get(username="newbie")
    assert foreign_skill.status_code == 302 and ok.team == org.team_b
    assert list(ok.skills.values_list("queue_id", flat=True)) == [org.q_general.pk]


def test_the_service_refuses_a_team_outside_the_managers_reach(org):
    with pytest.raises(ValidationError) as exc:
        people.person_create(
            by=org.manager, username="x", display_name="x", role=Role.AGENT, team=org.team_c
        )
    assert "team" in exc.value.error_dict
    with pytest.raises(PermissionDenied):
        people.person_create(
            by=org.lead1, username="x", display_name="x", role=Role.AGENT, team=org.team_a
        )


def test_a_manager_cannot_edit_people_of_another_department_or_the_director(org):
    manager = _as(org.manager)
    assert manager.get(reverse("agents:person-edit", args=[org.agent4.pk])).status_code == 404
    assert manager.get(reverse("agents:person-edit", args=[org.manager.pk])).status_code == 403
    assert manager.post(reverse("agents:person-signin-link", args=[org.agent4.pk])).status_code == (
        404
    )
    for who in (org.lead1, org.agent1):
        assert _as(who).get(reverse("agents:person-add")).status_code == 403


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"employee_no": "S0001"}, "employee_no"),
        ({"reports_to": "lead1"}, "reports_to"),  # lead1 leads team A, the person joins B
        ({"username": "agent1"}, "username"),
        ({"role": Role.DIRECTOR}, "role"),
        ({"skill_QUEUE": "11"}, "skill_QUEUE"),
    ],
)
def test_bad_input_is_a_form_error_and_changes_nothing(org, over, field):
    org.agent1.employee_no = "S0001"
    org.agent1.save()
    over = {k.replace("QUEUE", str(org.q_general.pk)): v for k, v in over.items()}
    field = field.replace("QUEUE", str(org.q_general.pk))
    if over.get("reports_to") == "lead1":
        over["reports_to"] = org.lead1.pk
    before = Person.objects.count()

    response = _as(org.manager).post(reverse("agents:person-add"), _form(org, **over))

    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert Person.objects.count() == before


def test_moving_an_agent_on_the_roster_moves_their_lead_and_skills_change(org):
    manager = _as(org.manager)
    page = manager.get(reverse("agents:person-edit", args=[org.agent1.pk]))
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update(team=org.team_b.pk, **{f"skill_{org.q_general.pk}": "9"})

    response = manager.post(reverse("agents:person-edit", args=[org.agent1.pk]), data)

    assert response.status_code == 302
    org.agent1.refresh_from_db()
    assert (org.agent1.team, org.agent1.reports_to) == (org.team_b, org.lead2)
    assert org.agent1.skills.get().proficiency == 9


def test_moving_an_agent_in_the_admin_change_form_moves_their_lead(org, superuser):
    admin = _as(superuser)
    url = reverse("admin:agents_person_change", args=[org.agent1.pk])
    form = admin.get(url).context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name not in {"password", "groups", "user_permissions", "managed_departments"}
        and value is not None
    }
    data.update(
        team=org.team_b.pk,
        reports_to=org.lead1.pk,  # left as it was
        last_login_0="",
        last_login_1="",
        date_joined_0="2026-01-02",
        date_joined_1="09:00:00",
        **{
            "skills-TOTAL_FORMS": "0",
            "skills-INITIAL_FORMS": "0",
            "skills-MIN_NUM_FORMS": "0",
            "skills-MAX_NUM_FORMS": "1000",
        },
    )
    data.pop("last_login", None)
    data.pop("date_joined", None)

    response = admin.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    org.agent1.refresh_from_db()
    assert (org.agent1.team, org.agent1.reports_to) == (org.team_b, org.lead2)


def test_a_lead_moving_away_hands_their_agents_to_the_teams_other_lead(org):
    second = PersonFactory(username="lead1b", role=Role.TEAM_LEAD, team=org.team_a)

    people.person_update(
        by=org.director,
        person_id=org.lead1.pk,
        display_name="lead1",
        role=Role.TEAM_LEAD,
        team=org.team_b,
        reports_to=org.lead1.reports_to,
    )

    org.agent1.refresh_from_db()
    org.lead1.refresh_from_db()
    assert org.agent1.reports_to == second
    assert (org.lead1.team, org.lead1.reports_to) == (org.team_b, org.manager)


def test_a_person_added_on_the_roster_is_offered_calls_of_their_queue(org):
    """The persona agents stay offline: the only one who can take the call is the newcomer,
    through the skill given on the form."""
    from callcenter.dispatch import suppress_dispatch
    from telephony.services.receiving import call_receive
    from telephony.services.routing import acd_offer_next
    from telephony.simulator import new_call_sid
    from tests.conftest import GENERAL_NUMBER

    response = _as(org.director).post(reverse("agents:person-add"), _form(org))
    assert response.status_code == 302
    newbie = Person.objects.get(username="newbie")
    with suppress_dispatch():
        agent_set_state(person=newbie, state="available")
        call_receive(sid=new_call_sid(), from_number="+821066600001", to_number=GENERAL_NUMBER)
        offer = acd_offer_next(queue_id=org.q_general.pk)

    assert offer is not None and offer.agent == newbie
