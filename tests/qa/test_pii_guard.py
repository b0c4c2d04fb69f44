"""The PII guard on QA free text: item notes, feedback, comments at a moment, the agent's
dispute reason (page and API) and the reviewer's decision. Found identifiers block the save
until the writer confirms; then they are stored masked and counted."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qa.models import Dispute, Evaluation, EvaluationComment, ScorecardItem
from qa.scoring import Mark
from qa.services.disputes import dispute_open
from qa.services.evaluations import evaluation_save
from qa.services.sampling import sample_run_execute, sample_run_start
from tickets.models import PiiDetection

RRN = "900101-1234567"


@pytest.fixture
def sampled(org, card, month_calls, this_month):
    run = sample_run_start(actor=org.trainer, month=this_month, dispatch=False)
    sample_run_execute(run_id=run.pk)
    return Evaluation.objects.filter(agent=org.agent1).order_by("pk").first()


def _marks(card):
    return {
        i.pk: Mark(not_applicable=True) if i.bonus else Mark(value=i.max_points)
        for i in ScorecardItem.objects.filter(section__scorecard=card)
    }


@pytest.fixture
def scored(card, sampled):
    evaluation_save(evaluation=sampled, actor=sampled.evaluator, marks=_marks(card), submit=True)
    return sampled


def test_item_notes_and_feedback_are_guarded(client, card, sampled):
    client.force_login(sampled.evaluator)
    item = ScorecardItem.objects.filter(section__scorecard=card).first()
    url = reverse("qa:evaluation", args=[sampled.pk])
    mark = "1" if item.kind == "yes_no" else f"{item.max_points:g}"
    data = {
        "action": "draft",
        f"item-{item.pk}": mark,
        f"note-{item.pk}": f"고객이 주민번호 {RRN}를 말함",
        "feedback": "카드 4111111111111111로 결제 안내",
    }
    first = client.post(url, data)
    assert first.status_code == 400
    page = first.content.decode()
    assert 'id="pii-findings"' in page and 'name="pii_action" value="mask"' in page
    sampled.refresh_from_db()
    assert sampled.feedback == "" and not sampled.answers.exists()
    assert client.post(url, {**data, "pii_action": "mask"}).status_code == 302
    sampled.refresh_from_db()
    assert sampled.feedback == "카드 411111******1111로 결제 안내"
    assert sampled.answers.get(item=item).note == "고객이 주민번호 900101-1******를 말함"
    assert PiiDetection.objects.filter(call=sampled.call, agent=sampled.evaluator).count() == 2


def test_the_callers_own_number_in_feedback_is_not_a_finding(client, sampled):
    client.force_login(sampled.evaluator)
    url = reverse("qa:evaluation", args=[sampled.pk])
    r = client.post(url, {"action": "draft", "feedback": "010-2222-3333 으로 회신 약속"})
    assert r.status_code == 302
    sampled.refresh_from_db()
    assert sampled.feedback == "010-2222-3333 으로 회신 약속"


def test_comments_at_a_moment_are_guarded(client, sampled):
    client.force_login(sampled.evaluator)
    url = reverse("qa:comment-add", args=[sampled.pk])
    data = {"at_seconds": "12", "body": "고객 메일 hong@example.com으로 안내"}
    first = client.post(url, data, HTTP_HX_REQUEST="true")
    assert first.status_code == 422
    assert 'id="pii-findings"' in first.content.decode()
    assert not EvaluationComment.objects.exists()
    second = client.post(url, {**data, "pii_action": "mask"}, HTTP_HX_REQUEST="true")
    assert second.status_code == 200
    assert EvaluationComment.objects.get().body == "고객 메일 h***@example.com으로 안내"


def test_the_dispute_reason_is_guarded(client, org, scored):
    client.force_login(org.agent1)
    url = reverse("qa:dispute", args=[scored.pk])
    reason = f"고객 주민번호 {RRN} 확인했는데요"
    first = client.post(url, {"reason": reason})
    assert first.status_code == 400 and 'id="pii-findings"' in first.content.decode()
    assert not Dispute.objects.exists()
    assert client.post(url, {"reason": reason, "pii_action": "mask"}).status_code == 302
    assert Dispute.objects.get().reason == "고객 주민번호 900101-1****** 확인했는데요"


def test_the_dispute_api_and_the_resolution_are_guarded(org, scored):
    api = APIClient()
    api.force_authenticate(org.agent1)
    body = {"evaluation_id": scored.pk, "reason": f"주민번호{RRN}"}
    first = api.post("/api/qa/disputes/", body, format="json")
    assert first.status_code == 422
    assert first.json()["pii"] == [{"field": "reason", "kind": "rrn", "masked": "900101-1******"}]
    assert not Dispute.objects.exists()
    second = api.post("/api/qa/disputes/", {**body, "pii_action": "mask"}, format="json")
    assert second.status_code == 201
    dispute = Dispute.objects.get()
    assert dispute.reason == "주민번호900101-1******"

    reviewer = APIClient()
    reviewer.force_authenticate(dispute.reviewer)
    url = f"/api/qa/disputes/{dispute.pk}/resolve/"
    answer = {"decision": "uphold", "resolution": "고객 번호 010-9876-5432로 확인함"}
    assert reviewer.post(url, answer, format="json").status_code == 422
    assert reviewer.post(url, {**answer, "pii_action": "mask"}, format="json").status_code == 200
    dispute.refresh_from_db()
    assert dispute.resolution == "고객 번호 ***-****-5432로 확인함"


def test_the_reviewers_decision_on_the_page_is_guarded(client, org, card, scored):
    dispute = dispute_open(evaluation=scored, actor=org.agent1, reason="점수가 이상합니다")
    client.force_login(dispute.reviewer)
    url = reverse("qa:dispute-resolve", args=[dispute.pk])
    data = {"decision": "uphold", "resolution": "카드 4111111111111111 확인"}
    first = client.post(url, data)
    assert first.status_code == 400 and 'id="pii-findings"' in first.content.decode()
    assert client.post(url, {**data, "pii_action": "mask"}).status_code == 302
    dispute.refresh_from_db()
    assert dispute.resolution == "카드 411111******1111 확인"


def test_qa_pages_show_the_callers_number_masked(client, org, sampled):
    client.force_login(org.trainer)
    for url in (
        reverse("qa:evaluation", args=[sampled.pk]),
        reverse("qa:recordings"),
        reverse("qa:calibration-new", args=[sampled.call_id]),
    ):
        page = client.get(url).content.decode()
        assert "010-2222-3333" not in page and "+821022223333" not in page, url
        assert "010-****-3333" in page, url


def test_coaching_plans_are_guarded(client, org, scored):
    from datetime import timedelta

    from django.utils import timezone

    from qa.models import CoachingPlan

    client.force_login(org.trainer)
    url = reverse("qa:coaching-new", args=[scored.pk])
    due = (timezone.localdate() + timedelta(days=7)).isoformat()
    data = {
        "goals": "고객 010-9876-5432 통화처럼 응대하지 않기",
        "tasks": f"녹취 다시 듣기 {due}\n카드 4111111111111111 안내 금지",
        "due_date": due,
        "follow_up_date": due,
    }
    first = client.post(url, data)
    assert first.status_code == 400 and 'id="pii-findings"' in first.content.decode()
    assert "Pii action" not in first.content.decode()
    assert not CoachingPlan.objects.exists()
    assert client.post(url, {**data, "pii_action": "mask"}).status_code == 302
    plan = CoachingPlan.objects.get()
    assert plan.goals == "고객 ***-****-5432 통화처럼 응대하지 않기"
    assert [t.text for t in plan.tasks.order_by("pk")] == [
        "녹취 다시 듣기",
        "카드 411111******1111 안내 금지",
    ]
    assert plan.tasks.order_by("pk").first().due_date.isoformat() == due


def test_a_calibration_title_is_guarded(client, org, card):
    from qa.models import CalibrationSession
    from tests.factories import CallFactory

    call = CallFactory(agent=org.agent1, recorded=True)
    client.force_login(org.trainer)
    url = reverse("qa:calibration-new", args=[call.pk])
    data = {"title": "고객 010-9876-5432 건 보정", "participants": [org.lead1.pk]}
    first = client.post(url, data)
    assert first.status_code == 422
    assert 'id="pii-findings"' in first.content.decode()
    assert not CalibrationSession.objects.exists()
    assert client.post(url, {**data, "pii_action": "mask"}).status_code == 302
    assert CalibrationSession.objects.get().title == "고객 ***-****-5432 건 보정"
    assert PiiDetection.objects.get(agent=org.trainer).field == "title"
