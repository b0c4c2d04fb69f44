"""The QA player keeps its place: saving a draft does not reload the page (the recording
stays where it was, playing or paused), a page that does reload resumes there, and the seek
bar (mouse and keyboard) shows the comments' marks at their moments."""

import re

import pytest

from qa.models import Answer, Evaluation, EvaluationStatus, ScorecardItem
from qa.services.evaluations import evaluation_comment_add
from qa.services.sampling import sample_run_execute, sample_run_start
from tests.browser.test_call_flow import ARTIFACTS, browser, login  # noqa: F401 (fixture)
from tests.browser.test_qa_flow import pick
from tests.qa.conftest import card, month_calls, this_month  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def position(page) -> float:
    return page.evaluate("document.getElementById('qa-audio').currentTime")


def paused(page) -> bool:
    return page.evaluate("document.getElementById('qa-audio').paused")


def centre_x(box) -> float:
    return box["x"] + box["width"] / 2


def test_saving_a_draft_keeps_the_recording_where_it_was_and_the_bar_shows_the_marks(
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
    evaluation_comment_add(
        evaluation=evaluation, actor=evaluation.evaluator, at_seconds=30.0, body="본인 확인 생략"
    )
    page = login(browser, live_server.url, evaluation.evaluator.username)
    page.goto(f"{live_server.url}/qa/evaluations/{evaluation.pk}/")
    expect(page.locator("#qa-time")).to_have_text(re.compile(r"^0:00 / 2:00$"), timeout=10_000)
    duration = page.evaluate("document.getElementById('qa-audio').duration")
    bar = page.locator("#qa-seekbar")

    # The comment's mark sits on the bar at its moment: clicking the track right under it
    # seeks there (the bar and the marks share one scale), and the mark itself seeks too.
    mark = page.locator("#qa-marks .mark")
    expect(mark).to_have_count(1)
    bar_box, mark_box = bar.bounding_box(), mark.bounding_box()
    fraction = (centre_x(mark_box) - bar_box["x"]) / bar_box["width"]
    assert fraction == pytest.approx(30.0 / duration, abs=0.02)
    bar.click(position={"x": centre_x(mark_box) - bar_box["x"], "y": bar_box["height"] / 2})
    assert position(page) == pytest.approx(30.0, abs=1.0)
    bar.press("Home")
    assert position(page) == 0
    mark.click()
    assert position(page) == pytest.approx(30.0, abs=0.5)
    page.locator("[data-player=toggle]").click()  # the mark plays from there: pause

    # Keyboard on the bar: Home, then L (+5 s) and two arrow steps: 0:07.
    bar.focus()
    page.keyboard.press("Home")
    page.keyboard.press("l")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#qa-time")).to_have_text("0:07 / 2:00")
    expect(bar).to_have_attribute("aria-valuetext", "0:07 / 2:00")

    # A comment there (C, type, Enter) adds its mark without moving the player.
    page.keyboard.press("c")
    page.keyboard.type("첫인사 누락")
    page.keyboard.press("Enter")
    expect(page.locator("#comment-list a.stamp")).to_have_count(2)
    expect(mark).to_have_count(2)
    early = page.locator("#qa-marks .mark[data-seek='7.0']")
    fraction = (centre_x(early.bounding_box()) - bar_box["x"]) / bar_box["width"]
    assert fraction == pytest.approx(7.0 / duration, abs=0.02)
    assert position(page) == pytest.approx(7.0, abs=0.1)
    # This one too: the track right under it is 0:07.
    x = centre_x(early.bounding_box()) - bar_box["x"]
    bar.click(position={"x": x, "y": bar_box["height"] / 2})
    assert position(page) == pytest.approx(7.0, abs=1.0)
    page.keyboard.press("Home")
    # With the Korean IME on, L types "ㅣ": the player keys go by the physical key.
    bar.dispatch_event("keydown", {"key": "ㅣ", "code": "KeyL"})
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert position(page) == pytest.approx(7.0, abs=0.1)

    # Save the draft, paused at 0:07: the page is the same page, the player has not moved.
    page.evaluate("window.sameDocument = true")
    first = ScorecardItem.objects.filter(section__scorecard=card, kind="yes_no").first()
    pick(page, first, "1")
    page.keyboard.press("Control+s")
    expect(page.locator("#save-result")).to_contain_text(re.compile("임시 저장|Draft saved"))
    expect(page.locator("#eval-status")).to_have_text(re.compile("초안|Draft"))
    assert Answer.objects.get(evaluation=evaluation, item=first).value == 1
    assert Evaluation.objects.get(pk=evaluation.pk).status == EvaluationStatus.DRAFT
    assert page.evaluate("window.sameDocument") is True
    assert position(page) == pytest.approx(7.0, abs=0.1)
    assert paused(page)
    expect(page.locator("#qa-time")).to_have_text("0:07 / 2:00")

    # Playing, saved again (the button this time): it is still playing, past 0:07.
    page.keyboard.press("k")
    for _ in range(50):  # wait_for_function evaluates a string: the page's CSP forbids it
        if position(page) > 7.3:
            break
        page.wait_for_timeout(100)
    page.locator("#score-form button[value=draft]").click()
    expect(page.locator("#save-result")).to_contain_text(re.compile("임시 저장|Draft saved"))
    page.wait_for_timeout(300)
    assert page.evaluate("window.sameDocument") is True
    assert not paused(page)
    assert 7.3 < position(page) < 20
    page.keyboard.press("k")
    page.screenshot(path=ARTIFACTS / "qa-player.png")

    # A page that reloads anyway resumes where it was, not at 0:00.
    at = position(page)
    page.reload()
    expect(page.locator("#qa-time")).to_have_text(
        re.compile(rf"^{int(at) // 60}:{int(at) % 60:02d} / 2:00$")
    )
    assert position(page) == pytest.approx(at, abs=0.3)
    expect(page.locator("#qa-marks .mark")).to_have_count(2)
    from django.db import connections

    connections.close_all()
