"""The KPI dashboard in Chromium: charts drawn by the vendored Chart.js, a drill-down link,
and the print layout hiding the filters."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from kpi.services.fill import kpi_backfill
from tests.browser.test_call_flow import browser, login  # noqa: F401
from tests.factories import CallFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_the_manager_sees_charts_drills_down_and_prints(live_server, org, browser):  # noqa: F811
    from playwright.sync_api import expect

    base = timezone.localtime().replace(hour=0, minute=5, second=0, microsecond=0)
    for i in range(3):
        CallFactory(
            enqueued_at=base + timedelta(minutes=i), wait=3, agent=org.agent1, talk=90, acw=0
        )
    kpi_backfill(start=base.replace(minute=0), end=timezone.now() + timedelta(minutes=1))
    page = login(browser, live_server.url, "manager1")
    page.goto(live_server.url + "/kpi/")
    # Chart.js has drawn every chart (a canvas with a Chart instance and pixels).
    page.wait_for_function(
        "document.querySelectorAll('canvas[data-chart]').length > 0 && "
        "[...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))"
    )
    handled = page.locator(f"tr[data-scope='queue-{org.q_general.pk}'] td.handled a")
    expect(handled).to_have_text("3")
    handled.click()
    page.wait_for_url("**/kpi/calls/**")
    expect(page.locator("table.kpi-table tbody tr")).to_have_count(3)
    page.go_back()
    page.emulate_media(media="print")
    expect(page.locator("form.filters")).to_be_hidden()
