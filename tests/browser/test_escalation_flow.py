"""실장 연결 and listening in Debian's Chromium (issue 18, items 3 and 8): the 실장 takes
escalations only; the agent talks to them first and hands the caller over and sees where
the caller went; a 실장 barges into a call from the team board and stops."""

import pytest

from agents.models import AgentStatus
from telephony.models import Call, CallPhase, Handover
from telephony.simulator import Simulator
from tests.browser import test_call_flow as call_flow
from tests.conftest import GENERAL_NUMBER

# Chromium asks for English (Accept-Language); the Korean words are checked in
# tests/telephony/test_escalation.py and test_monitoring.py.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = call_flow.ARTIFACTS
login = call_flow.login
browser = call_flow.browser


def take_a_call(page, from_number):
    from playwright.sync_api import expect

    panel = page.locator("#desk-panel")
    page.keyboard.press("F2")
    expect(panel).to_have_attribute("data-state", "available")
    Simulator.default().place_call(from_number=from_number, to_number=GENERAL_NUMBER)
    expect(page.locator("#btn-accept")).to_be_visible(timeout=15_000)
    page.locator("#btn-accept").click()
    expect(panel).to_have_attribute("data-state", "on_call", timeout=10_000)


def test_the_agent_talks_to_the_lead_first_and_hands_the_caller_over(
    live_server, org, celery_worker, browser, settings
):
    from playwright.sync_api import expect

    settings.PUBLIC_BASE_URL = live_server.url
    settings.SIMULATOR_TARGET_URL = live_server.url
    ARTIFACTS.mkdir(exist_ok=True)

    lead = login(browser, live_server.url, "lead2")  # agent3's 실장
    lead.goto(live_server.url + "/agents/desktop/")
    lead.locator("#btn-escalations-only").click()
    expect(lead.locator("#escalations-only-on")).to_be_visible()
    expect(lead.locator("#desk-panel")).to_have_attribute("data-state", "available")

    agent = login(browser, live_server.url, "agent3")
    agent.wait_for_url("**/agents/desktop/")
    take_a_call(agent, "010-2222-3333")  # the lead takes no queue call: it rings agent3
    expect(agent.locator("#escalate-hint")).to_contain_text("lead2")
    agent.locator("#btn-escalate-consult").click()
    expect(agent.locator("#btn-transfer-complete")).to_be_visible(timeout=10_000)
    expect(agent.locator(".bridge-pending")).to_contain_text("Escalating to team lead")

    expect(lead.locator("#btn-accept")).to_be_visible(timeout=15_000)
    lead.locator("#btn-accept").click()
    expect(lead.locator("#desk-panel")).to_have_attribute("data-state", "on_call", timeout=10_000)

    agent.locator("#btn-transfer-complete").click()
    panel = agent.locator("#desk-panel")
    expect(panel).to_have_attribute("data-state", "wrap_up", timeout=10_000)
    notice = agent.locator("#handover-notice")
    expect(notice).to_contain_text("Escalated to team lead")
    expect(notice).to_contain_text("lead2")
    expect(agent.locator("#handover-now")).to_contain_text("talking with lead2")
    agent.screenshot(path=ARTIFACTS / "esc-handed-over.png")
    call = Call.objects.filter(agent=org.agent3).order_by("pk").first()
    assert (call.handover, call.handover_to_id) == (Handover.ESCALATED, org.lead2.pk)
    assert AgentStatus.objects.get(person=org.lead2).escalations_only


def test_the_lead_barges_in_and_stops_from_the_team_board(
    live_server, org, celery_worker, browser, settings
):
    from playwright.sync_api import expect

    settings.PUBLIC_BASE_URL = live_server.url
    settings.SIMULATOR_TARGET_URL = live_server.url
    agent = login(browser, live_server.url, "agent1")
    agent.wait_for_url("**/agents/desktop/")
    take_a_call(agent, "010-4444-5555")
    call = Call.objects.get(agent=org.agent1, phase=CallPhase.CONNECTED)

    lead = login(browser, live_server.url, "lead1")
    lead.goto(live_server.url + "/agents/team/")
    controls = lead.locator(f"#monitor-{call.pk}")
    controls.locator(f"[data-listen='{call.pk}']").click()
    expect(lead.locator(f"#monitor-{call.pk}")).to_have_attribute("data-monitor", "listen")
    lead.locator(f"[data-barge='{call.pk}']").click()
    expect(lead.locator(f"#monitor-{call.pk}")).to_have_attribute("data-monitor", "barge")
    expect(lead.locator(f"#monitor-{call.pk}")).to_contain_text("In the conversation")
    # The board's 2-second refresh keeps saying so.
    lead.wait_for_timeout(2500)
    expect(lead.locator(f"#monitor-{call.pk}")).to_have_attribute("data-monitor", "barge")
    lead.screenshot(path=ARTIFACTS / "esc-team-board-barge.png")
    lead.locator(f"[data-stop='{call.pk}']").click()
    expect(lead.locator(f"#monitor-{call.pk}")).to_have_attribute("data-monitor", "")
    expect(lead.locator(f"[data-stop='{call.pk}']")).to_have_count(0)
    kinds = list(call.events.order_by("id").values_list("kind", flat=True))
    assert "monitor_stop" in kinds
    call.refresh_from_db()
    assert call.phase == CallPhase.CONNECTED  # the agent and the customer carry on
