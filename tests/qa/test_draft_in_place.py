"""A draft saved with htmx answers with the save-result fragment, not a redirect: the page
(and the recording playing on it) stays. Bad input and found identifiers answer 4xx there,
changing nothing; a save without htmx still redirects."""

import json
from html import unescape

import pytest
from django.urls import reverse

from qa.models import Evaluation, EvaluationStatus, ScorecardItem
from qa.services.sampling import sample_run_execute, sample_run_start

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def sampled(org, card, month_calls, this_month):
    run = sample_run_start(actor=org.trainer, month=this_month, dispatch=False)
    sample_run_execute(run_id=run.pk)
    return Evaluation.objects.filter(agent=org.agent1).order_by("pk").first()


@pytest.fixture
def yes_no(card):
    return ScorecardItem.objects.filter(section__scorecard=card, kind="yes_no").first()


def test_an_htmx_draft_is_saved_in_place_with_the_new_status(client, sampled, yes_no):
    client.force_login(sampled.evaluator)
    url = reverse("qa:evaluation", args=[sampled.pk])
    r = client.post(url, {f"item-{yes_no.pk}": "1", "action": "draft", "feedback": "초안"}, **HTMX)
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith('<div id="save-result"')
    assert 'id="eval-status" hx-swap-oob="true"' in body
    assert "<html" not in body and "qa-audio" not in body
    sampled.refresh_from_db()
    assert sampled.status == EvaluationStatus.DRAFT and sampled.feedback == "초안"
    assert sampled.answers.get(item=yes_no).value == 1
    # Without htmx the same save still goes back to the page.
    r = client.post(url, {f"item-{yes_no.pk}": "0", "action": "draft"})
    assert r.status_code == 302 and r.url == url


def test_an_htmx_draft_with_a_bad_mark_is_a_400_in_place_and_changes_nothing(
    client, sampled, yes_no
):
    client.force_login(sampled.evaluator)
    url = reverse("qa:evaluation", args=[sampled.pk])
    r = client.post(url, {f"item-{yes_no.pk}": "7", "action": "draft", "feedback": "x"}, **HTMX)
    assert r.status_code == 400
    assert 'id="save-result"' in r.content.decode() and 'role="alert"' in r.content.decode()
    sampled.refresh_from_db()
    assert sampled.status == EvaluationStatus.ASSIGNED and sampled.feedback == ""
    assert not sampled.answers.exists()


def test_an_htmx_draft_with_a_phone_number_asks_then_hands_back_the_masked_text(
    client, sampled, yes_no
):
    client.force_login(sampled.evaluator)
    url = reverse("qa:evaluation", args=[sampled.pk])
    data = {"action": "draft", "feedback": "고객 주민번호 900101-1234567 확인"}
    first = client.post(url, data, **HTMX)
    assert first.status_code == 422
    body = first.content.decode()
    assert 'id="pii-findings"' in body and 'name="pii_action" value="mask"' in body
    sampled.refresh_from_db()
    assert sampled.feedback == ""
    second = client.post(url, {**data, "pii_action": "mask"}, **HTMX)
    assert second.status_code == 200
    sampled.refresh_from_db()
    assert "1234567" not in sampled.feedback
    # The page replaces what is in its fields with what was stored (qa.js reads data-masked).
    attribute = second.content.decode().split('data-masked="', 1)[1].split('"', 1)[0]
    assert json.loads(unescape(attribute)) == {"feedback": sampled.feedback}
