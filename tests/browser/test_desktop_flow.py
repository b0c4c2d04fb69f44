"""The desktop in Debian's Chromium: a call pops with the caller's history and its wrap-up
creates a ticket; the PII guard stops a resident registration number in a note; the 실장
approves an escalation from the team board."""

import pytest

from telephony.simulator import Simulator
from tests.browser import test_call_flow as call_flow
from tests.conftest import GENERAL_NUMBER
from tests.factories import TicketFactory
from tickets.models import PiiDetection, Ticket, TicketCategory, TicketNote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = call_flow.ARTIFACTS
login = call_flow.login
browser = call_flow.browser  # the same Chromium fixture as the call-flow test


def test_screen_pop_shows_history_and_wrapup_creates_a_ticket(
    live_server,
    org,
    celery_worker,
    browser,
    settings,
):
    from playwright.sync_api import expect

    settings.PUBLIC_BASE_URL = live_server.url
    settings.SIMULATOR_TARGET_URL = live_server.url
    ARTIFACTS.mkdir(exist_ok=True)
    old = TicketFactory(
        team=org.team_a,
        customer__phone="+821022223333",
        subject="지난달 요금 문의",
        status="resolved",
    )
    category = TicketCategory.objects.create(department=org.general, name="환불 요청")

    page = login(browser, live_server.url, "agent1")
    page.wait_for_url("**/agents/desktop/")
    panel = page.locator("#desk-panel")
    page.keyboard.press("F2")
    expect(panel).to_have_attribute("data-state", "available")

    Simulator.default().place_call(from_number="010-2222-3333", to_number=GENERAL_NUMBER)
    expect(page.locator("#btn-accept")).to_be_visible(timeout=15_000)
    page.keyboard.press("a")
    expect(panel).to_have_attribute("data-state", "on_call", timeout=10_000)
    # Screen pop: the caller is known, their past ticket is in the timeline.
    expect(page.locator("#caller-name")).to_have_text("홍길동")
    expect(page.locator(".desk-right")).to_contain_text(old.number, timeout=5_000)
    page.screenshot(path=ARTIFACTS / "desk-1-screen-pop.png")
    page.keyboard.press("h")
    expect(panel).to_have_attribute("data-state", "wrap_up", timeout=10_000)

    form = page.locator("#wrapup-form")
    resolve = form.locator("input[name=resolve]")
    expect(resolve).not_to_be_checked()
    form.locator("select[name=disposition]").select_option(index=1)  # resolves=True
    expect(resolve).to_be_checked()
    form.locator("select[name=ticket]").select_option(str(old.pk))
    expect(resolve).not_to_be_checked()  # an existing ticket: the agent decides
    form.locator("select[name=ticket]").select_option("")
    expect(resolve).to_be_checked()
    form.locator("select[name=category]").select_option(str(category.pk))
    form.locator("select[name=priority]").select_option("high")
    form.locator("input[name=subject]").fill("환불 요청")
    form.locator("textarea[name=note]").fill("환불 요청 접수, 3일 내 처리 안내")
    page.screenshot(path=ARTIFACTS / "desk-2-wrap-up.png")
    form.locator("textarea[name=note]").press("Control+Enter")
    expect(panel).to_have_attribute("data-state", "available", timeout=10_000)

    ticket = Ticket.objects.exclude(pk=old.pk).get()
    assert (ticket.customer_id, ticket.category, ticket.priority) == (
        old.customer_id,
        category,
        "high",
    )
    assert ticket.notes.get().body == "환불 요청 접수, 3일 내 처리 안내"
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(page.locator("#ticket-history")).to_contain_text("환불 요청")
    page.screenshot(path=ARTIFACTS / "desk-3-ticket.png", full_page=True)


def test_pii_warning_on_a_note_with_a_resident_registration_number(
    live_server,
    org,
    browser,
):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    page = login(browser, live_server.url, "agent1")
    page.wait_for_url("**/agents/desktop/")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    note = page.locator("#note-form textarea[name=body]")
    note.fill("본인 확인 주민번호 900101-1234567 받음")
    note.press("Control+Enter")
    findings = page.locator("#pii-findings")
    expect(findings).to_be_visible()
    expect(findings.locator("mark")).to_have_text("900101-1234567")
    expect(findings.locator("code")).to_have_text("900101-1******")
    assert not TicketNote.objects.exists()
    page.screenshot(path=ARTIFACTS / "desk-4-pii-warning.png", full_page=True)
    page.locator("#btn-note").click()  # save again: masked (the default)
    expect(page.locator("#notes .note .body").first).to_have_text(
        "본인 확인 주민번호 900101-1****** 받음"
    )
    assert "1234567" not in TicketNote.objects.get().body
    assert PiiDetection.objects.get().kind == "rrn"


def test_team_lead_approves_an_escalation(live_server, org, browser):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1, subject="요금 감면 요구")
    agent = login(browser, live_server.url, "agent1")
    agent.wait_for_url("**/agents/desktop/")
    agent.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    agent.locator("#escalate-form textarea[name=reason]").fill("감면 요구가 상담원 권한 밖입니다")
    agent.locator("#btn-ticket-escalate").click()
    expect(agent.locator("#ticket-history")).to_contain_text("감면 요구가 상담원 권한 밖입니다")

    lead = login(browser, live_server.url, "lead1")
    lead.wait_for_url("**/agents/team/")
    row = lead.locator("#inbox tr[data-request]")
    expect(row).to_contain_text(ticket.number)
    lead.screenshot(path=ARTIFACTS / "desk-5-escalation-inbox.png", full_page=True)
    row.locator("input[name=note]").fill("제가 직접 통화하겠습니다")
    row.locator("button[value=approve]").click()
    expect(lead.locator("#inbox tr[data-request]")).to_have_count(0)
    ticket.refresh_from_db()
    assert ticket.assignee == org.lead1
    agent.reload()
    expect(agent.locator("#ticket-history")).to_contain_text("제가 직접 통화하겠습니다")
