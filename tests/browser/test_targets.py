"""The targets page and the one daily target in Chromium (issue 18, items 7 and 10): the
director sets 일반's daily call target on the page from the menu, a rate out of range is a
form error, and agent1 then sees that number on the desktop, the KPI page and (through
their 실장) the org chart."""

import os

import pytest

from tests.browser.test_call_flow import browser, login  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_the_director_sets_a_target_and_agent1_sees_it_everywhere(live_server, org, browser):  # noqa: F811
    from playwright.sync_api import expect

    page = login(browser, live_server.url, "director")
    page.locator("nav.mainnav a[href='/agents/targets/']").click()
    page.wait_for_url("**/agents/targets/")
    page.select_option("select[name=unit]", f"department:{org.general.pk}")
    page.select_option("select[name=metric]", "service_level")
    page.fill("input[name=value]", "150")
    page.click("#target-form button")
    expect(page.locator("#target-form .error")).to_be_visible()
    page.select_option("select[name=metric]", "calls_per_day")
    page.fill("input[name=value]", "12")
    page.click("#target-form button")
    row = page.locator(f"tr[data-unit='department:{org.general.pk}']")
    expect(row.locator("td[data-metric='calls_per_day']")).to_have_text("12")
    expect(row.locator("td[data-metric='service_level']")).to_have_text("–")
    expect(page.locator("table.targets-history tbody tr")).to_have_count(1)

    manager = login(browser, live_server.url, "manager1")
    manager.goto(live_server.url + "/agents/targets/")
    expect(manager.locator(f"tr[data-unit='department:{org.signup.pk}']")).to_have_count(0)

    agent = login(browser, live_server.url, "agent1")
    agent.wait_for_url("**/agents/desktop/")
    expect(agent.locator("#today-figures progress.target-bar")).to_have_attribute("max", "12")
    agent.goto(live_server.url + "/kpi/")
    expect(agent.locator("body")).to_contain_text("/ 12")
    expect(agent.locator("nav.mainnav a[href='/agents/targets/']")).to_have_count(0)
    assert agent.goto(live_server.url + "/agents/targets/").status == 403

    lead = login(browser, live_server.url, "lead1")
    lead.goto(live_server.url + "/agents/org/")
    expect(lead.locator("[data-daily-target]")).to_have_attribute("data-daily-target", "12")
