"""agent1 takes a simulated call end to end in Debian's Chromium; the KPI page counts it."""

import os
import time
from pathlib import Path

import pytest

from telephony.simulator import Simulator
from tests.conftest import CHROMIUM, GENERAL_NUMBER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Playwright's sync API runs an event loop in this thread; the ORM calls here are plain
# synchronous test code, so Django's async-safety guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def login(browser, base_url, username):
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    return page


def test_agent_takes_a_call_and_the_kpi_page_counts_it(
    live_server, org, celery_worker, browser, settings
):
    from playwright.sync_api import expect

    settings.PUBLIC_BASE_URL = live_server.url
    settings.SIMULATOR_TARGET_URL = live_server.url
    ARTIFACTS.mkdir(exist_ok=True)

    page = login(browser, live_server.url, "agent1")
    page.wait_for_url("**/agents/desktop/")
    panel = page.locator("#desk-panel")
    page.keyboard.press("F2")
    expect(panel).to_have_attribute("data-state", "available")

    Simulator.default().place_call(from_number="010-2222-3333", to_number=GENERAL_NUMBER)
    expect(page.locator("#btn-accept")).to_be_visible(timeout=15_000)
    page.screenshot(path=ARTIFACTS / "1-offer.png")
    page.keyboard.press("a")
    expect(panel).to_have_attribute("data-state", "on_call", timeout=10_000)
    expect(page.locator("#btn-hangup")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "2-on-call.png")
    page.keyboard.press("h")
    expect(panel).to_have_attribute("data-state", "wrap_up", timeout=10_000)

    form = page.locator("#wrapup-form")
    form.locator("select[name=disposition]").select_option(index=1)
    form.locator("textarea[name=note]").fill("요금 문의 안내 완료")
    form.locator("input[name=subject]").fill("요금 문의")
    page.screenshot(path=ARTIFACTS / "3-wrap-up.png")
    form.locator("textarea[name=note]").press("Control+Enter")
    expect(panel).to_have_attribute("data-state", "available", timeout=10_000)
    expect(page.locator("#handled-today")).to_have_text("1")

    manager = login(browser, live_server.url, "manager1")
    manager.wait_for_url("**/kpi/")
    # The manager's dashboard lists departments, queues and teams (agents are the team
    # lead's view): agent1's team row counts the call.
    row = manager.locator(f"tr[data-scope='team-{org.team_a.pk}'] td.handled")
    deadline = time.monotonic() + 20
    while row.inner_text() != "1" and time.monotonic() < deadline:
        time.sleep(0.5)
        manager.reload()
    expect(row).to_have_text("1")
    expect(
        manager.locator(f"tr[data-scope='department-{org.general.pk}'] td.handled")
    ).to_have_text("1")
    manager.screenshot(path=ARTIFACTS / "4-kpi.png", full_page=True)
