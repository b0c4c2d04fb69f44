"""Keyboard shortcuts act on the form they belong to: on the QA evaluation page Ctrl+Enter
in the comment box does not submit the score; in the score form it does."""

import pytest

from qa.models import Evaluation, EvaluationStatus
from qa.services.sampling import sample_run_execute, sample_run_start
from tests.browser.test_call_flow import browser, login  # noqa: F401 (fixture)
from tests.browser.test_qa_flow import answer_all
from tests.qa.conftest import card, month_calls, this_month  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ctrl_enter_submits_the_score_only_from_the_score_form(
    live_server,
    org,
    card,  # noqa: F811
    month_calls,  # noqa: F811
    this_month,  # noqa: F811
    browser,  # noqa: F811
):
    from playwright.sync_api import expect

    run = sample_run_start(actor=org.trainer, month=this_month, dispatch=False)
    sample_run_execute(run_id=run.pk)
    evaluation = Evaluation.objects.filter(agent=org.agent1).order_by("due_date", "id").first()
    page = login(browser, live_server.url, evaluation.evaluator.username)
    page.goto(f"{live_server.url}/qa/evaluations/{evaluation.pk}/")
    answer_all(page, card)
    comment = page.locator("#comment-form input[name=body]")
    comment.fill("첫인사 누락")
    comment.press("Control+Enter")  # not the score form's key here
    page.wait_for_timeout(1500)
    assert Evaluation.objects.get(pk=evaluation.pk).status == evaluation.status
    assert page.url.endswith(f"/qa/evaluations/{evaluation.pk}/")
    page.locator("#score-form textarea[name=feedback]").fill("잘했습니다")
    page.locator("#score-form textarea[name=feedback]").press("Control+Enter")
    page.wait_for_url(f"{live_server.url}/qa/")
    expect(page.locator("body")).to_be_visible()
    assert Evaluation.objects.get(pk=evaluation.pk).status == EvaluationStatus.SUBMITTED


def test_player_keys_work_with_the_korean_ime_on(
    live_server,
    org,
    card,  # noqa: F811
    month_calls,  # noqa: F811
    this_month,  # noqa: F811
    browser,  # noqa: F811
):
    """With 한글 input on, L types "ㅣ" and C "ㅊ": the player keys follow the physical key."""
    import re

    from playwright.sync_api import expect

    from tests.browser.test_desk_typing import press

    run = sample_run_start(actor=org.trainer, month=this_month, dispatch=False)
    sample_run_execute(run_id=run.pk)
    evaluation = Evaluation.objects.filter(agent=org.agent1).order_by("due_date", "id").first()
    page = login(browser, live_server.url, evaluation.evaluator.username)
    page.goto(f"{live_server.url}/qa/evaluations/{evaluation.pk}/")
    expect(page.locator("#qa-time")).to_have_text(re.compile(r"0:00 / 2:00"), timeout=10_000)
    press(page, "ㅣ", "KeyL")
    press(page, "ㅣ", "KeyL")
    expect(page.locator("#qa-time")).to_have_text(re.compile(r"^0:10 / "))
    press(page, "ㅊ", "KeyC")
    expect(page.locator("#comment-form input[name=body]")).to_be_focused()
