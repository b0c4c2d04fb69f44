"""Where each role lands and what its menu offers, in Chromium, in Korean and English."""

import os

import pytest
from django.contrib.auth import get_user_model

from agents.models import Role
from tests.browser import test_call_flow as call_flow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
browser = call_flow.browser  # the same Chromium fixture as the call-flow test
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def login(browser, base_url, username):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ko-KR")
    page = context.new_page()
    page.goto(base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    return page


def menu(page) -> dict[str, str]:
    links = page.locator("nav.mainnav a")
    return {
        links.nth(i).inner_text().strip(): links.nth(i).get_attribute("href")
        for i in range(links.count())
    }


@pytest.mark.parametrize(
    ("username", "lands_on", "must_link", "must_not_link"),
    [
        ("agent1", "/agents/desktop/", [], ["/agents/team/", "/admin/"]),
        ("lead1", "/agents/team/", ["/agents/team/", "/agents/desktop/"], ["/admin/"]),
        ("trainer1", "/qa/", ["/qa/", "/kpi/"], ["/admin/"]),
        ("manager1", "/kpi/", ["/agents/team/", "/kpi/"], ["/admin/"]),
        ("director", "/kpi/", ["/agents/team/", "/kpi/"], ["/admin/"]),
        ("boss", "/agents/org/", ["/admin/"], []),
    ],
)
def test_each_role_lands_on_its_work_and_its_menu_links_it(
    live_server, org, browser, username, lands_on, must_link, must_not_link
):
    get_user_model().objects.create_superuser(
        "boss", password="pw", display_name="관리자", role=Role.ADMIN, center=org.center
    )
    page = login(browser, live_server.url, username)
    page.wait_for_url(f"**{lands_on}")
    links = menu(page)
    for href in must_link:
        assert href in links.values(), (username, href, links)
    for href in must_not_link:
        assert href not in links.values(), (username, href, links)
    if username == "boss":
        assert links["관리"] == "/admin/"
        page.get_by_role("link", name="관리", exact=True).click()
        page.wait_for_url("**/admin/")
    page.close()


def test_a_missing_page_is_sangdams_in_korean_and_english(live_server, org, browser):
    from playwright.sync_api import expect

    page = login(browser, live_server.url, "agent1")
    page.wait_for_url("**/agents/desktop/")
    response = page.goto(live_server.url + "/no-such-page/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "찾을 수 없음"
    assert page.locator("nav.mainnav").is_visible()  # the person's menu, to go on from
    page.select_option("select[name=language]", "en")
    expect(page.locator("h1")).to_have_text("Not found")  # after the language form's reload
    page.close()
