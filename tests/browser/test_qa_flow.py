"""A team lead scores a sampled call in Chromium while listening (a comment at a moment of
the recording, the live total), the agent disputes it, the reviewer changes the score."""

import re

import pytest

from qa.models import Dispute, Evaluation, EvaluationStatus, ScorecardItem
from qa.services.sampling import sample_run_execute, sample_run_start
from tests.browser.test_call_flow import ARTIFACTS, browser, login  # noqa: F401 (fixture)
from tests.qa.conftest import card, month_calls, this_month  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pick(page, item, value):
    page.locator(f"label:has(> input[name='item-{item.pk}'][value='{value}'])").click()


def answer_all(page, scorecard, *, greeting="1"):
    for item in ScorecardItem.objects.filter(section__scorecard=scorecard):
        if item.bonus:
            pick(page, item, "na")
        elif item.kind == "yes_no":
            pick(page, item, greeting if item.text.startswith("첫인사") else "1")
        elif item.kind == "scale":
            pick(page, item, f"{item.max_points:g}")


def test_lead_scores_with_a_timestamped_comment_agent_disputes_reviewer_resolves(
    live_server,
    org,
    card,  # noqa: F811
    month_calls,  # noqa: F811
    this_month,  # noqa: F811
    browser,  # noqa: F811
):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    run = sample_run_start(actor=org.trainer, month=this_month, dispatch=False)
    sample_run_execute(run_id=run.pk)
    evaluation = Evaluation.objects.filter(agent=org.agent1).order_by("due_date", "id").first()

    # --- lead1 scores it while listening -----------------------------------------------
    lead = login(browser, live_server.url, "lead1")
    lead.goto(live_server.url + "/qa/")
    lead.locator(f"#my-queue a[href='/qa/evaluations/{evaluation.pk}/']").click()
    lead.wait_for_url(f"**/qa/evaluations/{evaluation.pk}/")
    # The simulator's recording loads through Sangdam: its length shows in the player.
    expect(lead.locator("#qa-time")).to_have_text(re.compile(r"0:00 / 2:00"), timeout=10_000)
    lead.keyboard.press("l")
    lead.keyboard.press("l")
    expect(lead.locator("#qa-time")).to_have_text(re.compile(r"^0:10 / "))
    lead.keyboard.press("c")
    lead.keyboard.type("첫인사 누락")
    lead.keyboard.press("Enter")
    stamp = lead.locator("#comment-list a.stamp")
    expect(stamp).to_have_text("0:10")
    # Clicking the stamp jumps back to that moment.
    lead.keyboard.press("l")
    stamp.click()
    expect(lead.locator("#qa-time")).to_have_text(re.compile(r"^0:1[01] / "))
    lead.locator("[data-player=toggle]").click()  # pause

    answer_all(lead, card, greeting="0")
    # Live total from the server: 오프닝 (1·0 + 1 + 2)/4 = 75, overall (75 + 300 + 200)/6.
    expect(lead.locator("#total-score")).to_have_text("95.8")
    lead.locator("textarea[name=feedback]").fill("첫인사를 빠뜨리지 마세요.")
    lead.screenshot(path=ARTIFACTS / "qa-1-scoring.png", full_page=True)
    lead.keyboard.press("Control+Enter")
    lead.wait_for_url("**/qa/")
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SUBMITTED
    assert evaluation.comments.get().at_seconds == pytest.approx(10.0)

    # --- agent1 reads it and disputes ---------------------------------------------------
    agent = login(browser, live_server.url, "agent1")
    expect(agent.locator("#qa-unread")).to_have_text("1")
    agent.goto(live_server.url + "/qa/")
    agent.locator("#my-evaluations a.btn").first.click()
    expect(agent.locator("#total-score")).to_have_text("95.8")
    expect(agent.locator("#comment-list")).to_contain_text("첫인사 누락")
    agent.locator("textarea[name=reason]").fill("0:03에 첫인사를 했습니다.")
    agent.locator("#agent-actions button.warn").click()
    expect(agent.locator("#eval-status")).to_have_text(re.compile("이의|Disputed"))
    agent.screenshot(path=ARTIFACTS / "qa-2-disputed.png", full_page=True)
    dispute = Dispute.objects.get(evaluation=evaluation)
    assert dispute.reviewer == org.trainer

    # --- trainer1 (not the evaluator) reviews and changes the score ---------------------
    reviewer = login(browser, live_server.url, "trainer1")
    reviewer.goto(live_server.url + "/qa/")
    reviewer.locator("#my-reviews a.btn").first.click()
    reviewer.wait_for_url(f"**/qa/evaluations/{evaluation.pk}/")
    reviewer.wait_for_load_state("load")  # htmx is deferred: the live total needs it
    greeting = ScorecardItem.objects.get(section__scorecard=card, text__startswith="첫인사")
    pick(reviewer, greeting, "1")
    expect(reviewer.locator("#total-score")).to_have_text("100.0")
    reviewer.locator("textarea[name=resolution]").fill("녹취 확인: 첫인사 있음.")
    reviewer.locator("button[name=decision][value=change]").click()
    expect(reviewer.locator("#eval-status")).to_have_text(re.compile("해결|resolved"))
    expect(reviewer.locator("#history")).to_contain_text("95.8 → 100.0")
    reviewer.screenshot(path=ARTIFACTS / "qa-3-resolved.png", full_page=True)
    evaluation.refresh_from_db()
    assert evaluation.score == pytest.approx(100.0)
    assert evaluation.status == EvaluationStatus.RESOLVED
    # Playwright's sync API runs the test body inside its event loop, where Django (asgiref
    # locals) opened a second database connection; close it here, or dropping the test
    # database finds it still open.
    from django.db import connections

    connections.close_all()
