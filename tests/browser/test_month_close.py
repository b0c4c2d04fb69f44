"""The director closes this month in Chromium: the page first asks to confirm the days
left, closes only with the box ticked, then reopens it with a reason shown in the close
history; the evaluation downloads as an Excel file with the month written in it."""

import io
import os

import pytest
from django.utils import timezone

from kpi import closing
from kpi.models import PerformanceMonth, PerformanceMonthEvent
from tests.browser.test_call_flow import browser, login  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_the_director_confirms_an_early_close_then_reopens_with_a_reason(
    live_server,
    org,
    browser,  # noqa: F811
):
    from playwright.sync_api import expect

    today = timezone.localdate()
    month = today.replace(day=1)
    left = closing.days_left(month, today)
    page = login(browser, live_server.url, "director")
    page.goto(f"{live_server.url}/kpi/evaluations/?month={month:%Y-%m}")
    page.locator("button[form=compute]").click()
    page.wait_for_load_state()
    page.locator("button[form=close]").click()
    confirm = page.locator("#close-confirm")
    expect(confirm).to_be_visible()
    expect(confirm.get_by_role("alert")).to_contain_text(str(left))
    assert not PerformanceMonth.objects.filter(closed_at__isnull=False).exists()
    box = confirm.locator("input[name=confirm_days_left]")
    expect(box).to_have_value(str(left))
    confirm.locator("button[type=submit]").click()  # the box is required
    expect(confirm).to_be_visible()
    assert not PerformanceMonth.objects.filter(closed_at__isnull=False).exists()
    box.check()
    confirm.locator("button[type=submit]").click()
    expect(page.locator("#reopen")).to_be_visible()
    expect(page.locator(".timeline li")).to_have_count(1)

    with page.expect_download() as download:
        page.locator("a[href$='export=xlsx']").click()
    from openpyxl import load_workbook

    assert download.value.suggested_filename == f"evaluation-{month:%Y%m}.xlsx"
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet.cell(row=2, column=2).value == f"{month:%Y-%m}"

    reopen = page.locator("#reopen")
    reopen.locator("textarea[name=reason]").fill("콜 집계 누락으로 재마감 필요")
    reopen.locator("button[type=submit]").click()
    expect(page.locator(".timeline li")).to_have_count(2)
    expect(page.locator(".timeline li").first).to_contain_text("콜 집계 누락으로 재마감 필요")
    assert [e.action for e in PerformanceMonthEvent.objects.order_by("at")] == [
        "closed",
        "reopened",
    ]
    assert not PerformanceMonth.objects.get(month=month).is_closed
