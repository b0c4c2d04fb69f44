"""A manager adds a person on the roster in Chromium (only their departments' teams and
queues on offer), hands over the one-time link, and the newcomer signs in with it; the
director moves an agent to another team and their 실장 follows."""

import pytest

from agents.models import Person
from tests.browser.test_call_flow import browser, login  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_adds_a_person_on_the_roster_who_then_signs_in(
    live_server,
    org,
    browser,  # noqa: F811
    settings,
):
    from playwright.sync_api import expect

    settings.PUBLIC_BASE_URL = live_server.url
    page = login(browser, live_server.url, "manager1")
    page.wait_for_url("**/kpi/")
    page.goto(live_server.url + "/agents/people/")
    page.click("#person-add")
    page.wait_for_url("**/agents/people/add/")
    form = page.locator("#person-form")
    teams = form.locator("select[name=team] option").all_inner_texts()
    assert sorted(teams[1:]) == ["일반 · 일반 A", "일반 · 일반 B"]  # not 가입 C
    form.locator("input[name=display_name]").fill("신입 상담원")
    form.locator("input[name=username]").fill("newbie")
    form.locator("input[name=employee_no]").fill("S9001")
    form.locator("select[name=team]").select_option(label="일반 · 일반 B")
    form.locator(f"input[name=skill_{org.q_general.pk}]").fill("6")
    form.locator("button[type=submit]").click()

    page.wait_for_url("**/sign-in-link/")
    expect(page.locator("dl.facts")).to_contain_text(org.lead2.display_name)
    page.locator("#signin-link button[type=submit]").click()
    link = page.locator("code.reset-link").inner_text()
    assert link.startswith(live_server.url)

    newcomer = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    newcomer.goto(link)
    newcomer.fill("input[name=new_password1]", "first-passphrase-18")
    newcomer.fill("input[name=new_password2]", "first-passphrase-18")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url("**/reset/done/")
    newcomer.goto(live_server.url + "/login/")
    newcomer.fill("input[name=username]", "newbie")
    newcomer.fill("input[name=password]", "first-passphrase-18")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url("**/agents/desktop/")
    person = Person.objects.get(username="newbie")
    assert (person.team, person.reports_to) == (org.team_b, org.lead2)


def test_director_moves_an_agent_and_their_lead_follows(
    live_server,
    org,
    browser,  # noqa: F811
):
    from playwright.sync_api import expect

    page = login(browser, live_server.url, "director")
    page.wait_for_url("**/kpi/")
    page.goto(f"{live_server.url}/agents/people/{org.agent1.pk}/edit/")
    form = page.locator("#person-form")
    expect(form.locator("select[name=reports_to]")).to_have_value(str(org.lead1.pk))
    form.locator("select[name=team]").select_option(label="가입 · 가입 C")
    form.locator("button[type=submit]").click()

    page.wait_for_url("**/agents/people/")
    row = page.locator("#roster-rows tr", has_text="agent1")
    expect(row).to_contain_text("가입 C")
    expect(row).to_contain_text("lead3")
