"""The queue strip in Chromium: on the agent desktop above the desk panel, one entry per queue
of the agent, the longest wait ticking each second; and 응대율 beside 서비스 레벨 in the KPI
table."""

import os
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from callcenter.clock import day_bounds
from kpi.services.fill import kpi_backfill
from tests.browser.test_call_flow import ARTIFACTS, browser, login  # noqa: F401
from tests.factories import CallFactory, QueueMembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_the_agent_sees_their_queues_on_the_desktop(live_server, org, browser, settings):  # noqa: F811
    from playwright.sync_api import expect

    settings.REDIS_URL = ""
    cache.clear()  # a count kept by an earlier test
    QueueMembershipFactory(person=org.agent1, queue=org.q_signup)
    start, _ = day_bounds()
    now = timezone.now()
    t0 = max(now - timedelta(minutes=5), start + timedelta(seconds=1))
    CallFactory(enqueued_at=t0, wait=12, agent=org.agent2, talk=60, acw=10)
    CallFactory(
        abandoned=True, enqueued_at=t0 + timedelta(seconds=5), wait=40, department=org.general
    )
    CallFactory(
        queued=True, enqueued_at=max(now - timedelta(seconds=8), t0), department=org.general
    )
    CallFactory(
        queued=True, enqueued_at=max(now - timedelta(seconds=3), t0), department=org.general
    )

    page = login(browser, live_server.url, "agent1")
    page.wait_for_url("**/agents/desktop/")
    strip = page.locator("#queue-strip")
    expect(strip.locator(".qs-queue")).to_have_count(2, timeout=10_000)
    # Above the desk panel, outside it.
    assert page.locator("#desk-panel #queue-strip").count() == 0
    strip_box, panel_box = strip.bounding_box(), page.locator("#desk-panel").bounding_box()
    assert strip_box["y"] + strip_box["height"] <= panel_box["y"]
    general = strip.locator(f"[data-queue='{org.q_general.pk}']")
    expect(general.locator("[data-k=waiting]")).to_have_text("2")
    expect(general.locator("[data-k=sl]")).to_have_text("50%")  # 1 within T / (1 + 1)
    expect(strip.locator(f"[data-queue='{org.q_signup.pk}'] [data-k=waiting]")).to_have_text("0")
    # The longest wait ticks in the page, and turns red once past T (20 s).
    longest = general.locator("[data-k=longest]")
    first = longest.text_content()
    expect(longest).not_to_have_text(first, timeout=3_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "queue-strip.png")
    expect(general.locator(".qs-wait")).to_have_class("qs-fig qs-wait lvl-bad", timeout=20_000)


def test_the_kpi_table_has_the_answer_rate_beside_the_service_level(live_server, org, browser):  # noqa: F811
    from playwright.sync_api import expect

    base = timezone.localtime().replace(hour=0, minute=5, second=0, microsecond=0)
    for i in range(3):
        CallFactory(
            enqueued_at=base + timedelta(minutes=i), wait=3, agent=org.agent1, talk=90, acw=0
        )
    CallFactory(
        abandoned=True, enqueued_at=base + timedelta(minutes=4), wait=30, department=org.general
    )
    kpi_backfill(start=base.replace(minute=0), end=timezone.now() + timedelta(minutes=1))
    page = login(browser, live_server.url, "manager1")
    page.goto(live_server.url + "/kpi/")
    row = page.locator(f"tr[data-scope='queue-{org.q_general.pk}']")
    expect(row.locator("td.answer-rate")).to_have_text("75.0%")  # 3 of 4 offered
    headers = page.locator("table.kpi-table thead th").all_text_contents()
    rate = next(i for i, h in enumerate(headers) if h in {"응대율", "Answer rate"})
    assert headers[rate + 1] in {"서비스 레벨", "Service level"}
