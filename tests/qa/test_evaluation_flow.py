"""Scoring a sampled call, the agent reading and disputing it, a reviewer resolving it;
coaching; what each role may see (404 outside scope)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from qa.models import (
    Dispute,
    DisputeStatus,
    Evaluation,
    EvaluationStatus,
    ScorecardItem,
)
from qa.scoring import Mark
from qa.services.disputes import dispute_open, dispute_resolve
from qa.services.evaluations import evaluation_save
from qa.services.sampling import sample_run_execute, sample_run_start


@pytest.fixture
def sampled(org, card, month_calls, this_month):
    run = sample_run_start(actor=org.trainer, month=this_month, dispatch=False)
    sample_run_execute(run_id=run.pk)
    return Evaluation.objects.filter(agent=org.agent1).order_by("pk").first()


def items(card):
    return list(
        ScorecardItem.objects.filter(section__scorecard=card).order_by(
            "section__position", "position"
        )
    )


def full_marks(card):
    out = {}
    for item in items(card):
        out[f"item-{item.pk}"] = (
            "na" if item.bonus else ("1" if item.kind == "yes_no" else f"{item.max_points:g}")
        )
    return out


def login(client, person):
    client.force_login(person)
    return client


def test_the_evaluator_scores_with_a_live_total_a_draft_and_a_submit(client, org, card, sampled):
    login(client, org.lead1)
    url = reverse("qa:evaluation", args=[sampled.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert reverse("telephony:call-recording", args=[sampled.call_id]).encode() in page.content
    data = full_marks(card)
    first = items(card)[0]
    # Live total from the server formula on the unsaved form.
    total = client.post(
        reverse("qa:evaluation-total", args=[sampled.pk]), {f"item-{first.pk}": "1"}
    )
    assert total.status_code == 200
    assert b'id="total-score">100.0<' in total.content
    # A draft keeps partial answers.
    draft = client.post(url, {f"item-{first.pk}": "1", "action": "draft", "feedback": "초안"})
    assert draft.status_code == 302
    sampled.refresh_from_db()
    assert sampled.status == EvaluationStatus.DRAFT and sampled.answers.count() == 1
    # Submitting with criteria left is refused, nothing changes.
    refused = client.post(url, {f"item-{first.pk}": "1", "action": "submit"})
    assert refused.status_code == 400
    sampled.refresh_from_db()
    assert sampled.status == EvaluationStatus.DRAFT
    # Garbage is a 400 with the form, not a 500.
    assert (
        client.post(url, {**data, f"item-{first.pk}": "7", "action": "submit"}).status_code == 400
    )
    assert (
        client.post(url, {**data, f"item-{first.pk}": "abc", "action": "draft"}).status_code == 400
    )
    # A timestamped comment.
    comment = client.post(
        reverse("qa:comment-add", args=[sampled.pk]),
        {"at_seconds": "12.5", "body": "녹취 고지 누락"},
        HTTP_HX_REQUEST="true",
    )
    assert comment.status_code == 200 and b'data-seek="12.5"' in comment.content
    assert (
        client.post(
            reverse("qa:comment-add", args=[sampled.pk]), {"at_seconds": "x", "body": "a"}
        ).status_code
        == 302
    )
    assert sampled.comments.count() == 1
    done = client.post(url, {**data, "action": "submit", "feedback": "잘했습니다"})
    assert done.status_code == 302
    sampled.refresh_from_db()
    assert sampled.status == EvaluationStatus.SUBMITTED
    assert sampled.score == pytest.approx(100.0)
    assert sampled.compliance_score == pytest.approx(100.0)
    # Submitted is final for the evaluator.
    assert client.post(url, {**data, "action": "draft"}).status_code == 400


def test_who_may_see_an_evaluation(client, org, card, sampled):
    url = reverse("qa:evaluation", args=[sampled.pk])
    # Not scored yet: the agent does not see it; other teams' people never do.
    assert login(client, org.agent1).get(url).status_code == 404
    for outsider in (org.agent2, org.lead2, org.lead3, org.agent4):
        assert login(client, outsider).get(url).status_code == 404
    for insider in (org.lead1, org.manager, org.trainer, org.director):
        assert login(client, insider).get(url).status_code == 200
    evaluation_save(evaluation=sampled, actor=org.lead1, marks=_marks(card), submit=True)
    assert login(client, org.agent1).get(url).status_code == 200
    assert login(client, org.agent2).get(url).status_code == 404


def _marks(card, **over):
    out = {}
    for item in items(card):
        if item.bonus:
            out[item.pk] = Mark(not_applicable=True)
        else:
            out[item.pk] = Mark(value=item.max_points)
    out.update(over)
    return out


def test_the_agent_reads_acknowledges_or_disputes_their_own_only(client, org, card, sampled):
    evaluation_save(evaluation=sampled, actor=org.lead1, marks=_marks(card), submit=True)
    login(client, org.agent1)
    home = client.get(reverse("qa:home"))
    assert b'id="qa-unread"' in home.content  # the nav badge tells the agent
    client.get(reverse("qa:evaluation", args=[sampled.pk]))
    sampled.refresh_from_db()
    assert sampled.read_at is not None
    # Another agent cannot dispute it (404 through the page, PermissionDenied in the service).
    assert (
        login(client, org.agent2)
        .post(reverse("qa:dispute", args=[sampled.pk]), {"reason": "x"})
        .status_code
        == 404
    )
    with pytest.raises(PermissionDenied):
        dispute_open(evaluation=sampled, actor=org.agent2, reason="x")
    # The team lead cannot dispute on the agent's behalf.
    with pytest.raises(PermissionDenied):
        dispute_open(evaluation=sampled, actor=org.lead1, reason="x")
    # A reason is required.
    login(client, org.agent1)
    assert client.post(reverse("qa:dispute", args=[sampled.pk]), {"reason": " "}).status_code == 400
    response = client.post(
        reverse("qa:dispute", args=[sampled.pk]), {"reason": "녹취 고지 했습니다"}
    )
    assert response.status_code == 302
    dispute = Dispute.objects.get(evaluation=sampled)
    assert dispute.reviewer == org.trainer  # not the evaluator (lead1)
    sampled.refresh_from_db()
    assert sampled.status == EvaluationStatus.DISPUTED


def test_the_reviewer_is_never_the_evaluator(org, card, sampled):
    sampled.evaluator = org.trainer
    sampled.save()
    evaluation_save(evaluation=sampled, actor=org.trainer, marks=_marks(card), submit=True)
    dispute = dispute_open(evaluation=sampled, actor=org.agent1, reason="부당합니다")
    assert dispute.reviewer == org.lead1
    with pytest.raises(PermissionDenied):
        dispute_resolve(dispute=dispute, actor=org.trainer, resolution="유지")


def test_the_reviewer_changes_the_score_and_the_history_keeps_the_old_one(
    client, org, card, sampled
):
    notice = ScorecardItem.objects.get(section__scorecard=card, text="녹취 고지")
    marks = _marks(card) | {notice.pk: Mark(value=0)}
    evaluation_save(evaluation=sampled, actor=org.lead1, marks=marks, submit=True)
    sampled.refresh_from_db()
    assert sampled.score == 0.0 and sampled.auto_failed
    dispute = dispute_open(evaluation=sampled, actor=org.agent1, reason="고지했습니다 (0:05)")
    # The evaluator cannot resolve their own evaluation's dispute.
    login(client, org.lead1)
    resolve = reverse("qa:dispute-resolve", args=[dispute.pk])
    assert client.post(resolve, {"resolution": "x"}).status_code == 403
    login(client, org.trainer)
    page = client.get(reverse("qa:evaluation", args=[sampled.pk]))
    assert b"dispute-resolve" not in page.content or resolve.encode() in page.content
    data = full_marks(card)
    assert client.post(resolve, {**data, "decision": "change", "resolution": ""}).status_code == 400
    response = client.post(resolve, {**data, "decision": "change", "resolution": "고지 확인됨"})
    assert response.status_code == 302
    dispute.refresh_from_db()
    sampled.refresh_from_db()
    assert dispute.status == DisputeStatus.CHANGED
    assert (dispute.score_before, dispute.score_after) == (0.0, pytest.approx(100.0))
    assert sampled.status == EvaluationStatus.RESOLVED and sampled.score == pytest.approx(100.0)
    changed = sampled.events.get(kind="changed")
    assert changed.score_before == 0.0
    assert changed.data["answers_before"][str(notice.pk)]["value"] == 0.0
    assert list(sampled.events.values_list("kind", flat=True)) == [
        "submitted",
        "disputed",
        "changed",
    ]
    # Resolved once: a second decision is refused.
    assert client.post(resolve, {"decision": "uphold", "resolution": "x"}).status_code == 400


def test_uphold_keeps_the_score(org, card, sampled):
    evaluation_save(evaluation=sampled, actor=org.lead1, marks=_marks(card), submit=True)
    dispute = dispute_open(evaluation=sampled, actor=org.agent1, reason="?")
    dispute_resolve(dispute=dispute, actor=org.trainer, resolution="평가 유지")
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.UPHELD and dispute.score_after == dispute.score_before


def test_coaching_plan_from_an_evaluation_the_agent_sees_and_ticks_off(client, org, card, sampled):
    evaluation_save(evaluation=sampled, actor=org.lead1, marks=_marks(card), submit=True)
    login(client, org.lead1)
    url = reverse("qa:coaching-new", args=[sampled.pk])
    assert client.post(url, {"goals": "", "tasks": "", "due_date": "x"}).status_code == 400
    response = client.post(
        url,
        {
            "goals": "녹취 고지 습관화",
            "tasks": "스크립트 첫 문장 연습 2099-01-10\n모니터링 3건 청취",
            "due_date": "2099-01-31",
            "follow_up_date": "2099-02-15",
        },
    )
    assert response.status_code == 302
    plan = sampled.coaching.get()
    assert [(t.text, str(t.due_date)) for t in plan.tasks.all()] == [
        ("스크립트 첫 문장 연습", "2099-01-10"),
        ("모니터링 3건 청취", "None"),
    ]
    login(client, org.agent1)
    assert client.get(reverse("qa:coaching-plan", args=[plan.pk])).status_code == 200
    for task in plan.tasks.all():
        client.post(reverse("qa:coaching-task", args=[task.pk]), {"done": "1"})
    plan.refresh_from_db()
    assert plan.status == "done"
    assert (
        login(client, org.agent2).get(reverse("qa:coaching-plan", args=[plan.pk])).status_code
        == 404
    )
    # An agent cannot make plans.
    assert login(client, org.agent1).get(url).status_code == 404


def test_opening_an_evaluation_records_only_the_first_read(client, org, card, sampled):
    from qa.services.evaluations import evaluation_mark_read

    evaluation_save(evaluation=sampled, actor=sampled.evaluator, marks=_marks(card), submit=True)
    login(client, org.agent1)
    for _ in range(3):
        assert client.get(reverse("qa:evaluation", args=[sampled.pk])).status_code == 200
    login(client, sampled.evaluator)
    client.get(reverse("qa:evaluation", args=[sampled.pk]))
    assert list(sampled.events.filter(kind="read").values_list("actor", flat=True)) == [
        org.agent1.pk
    ]
    # A second request that loaded the evaluation before the first marked it read (two tabs
    # at once) writes no second event.
    stale = Evaluation.objects.get(pk=sampled.pk)
    stale.read_at = None
    evaluation_mark_read(evaluation=stale, actor=org.agent1)
    assert sampled.events.filter(kind="read").count() == 1
