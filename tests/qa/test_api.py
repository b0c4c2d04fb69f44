"""QA API: same scoping as the pages (404 outside scope), disputes by the agent only,
resolution by the reviewer only; the OpenAPI schema lists the endpoints."""

import pytest
from rest_framework.test import APIClient

from qa.models import Evaluation, ScorecardItem
from qa.scoring import Mark
from qa.services.evaluations import evaluation_save
from qa.services.sampling import sample_run_execute, sample_run_start


@pytest.fixture
def scored(org, card, month_calls, this_month):
    run = sample_run_start(actor=org.trainer, month=this_month, dispatch=False)
    sample_run_execute(run_id=run.pk)
    ev = Evaluation.objects.filter(agent=org.agent1).order_by("pk").first()
    marks = {
        i.pk: Mark(not_applicable=True) if i.bonus else Mark(value=i.max_points)
        for i in ScorecardItem.objects.filter(section__scorecard=card)
    }
    evaluation_save(evaluation=ev, actor=ev.evaluator, marks=marks, submit=True)
    return ev


def api(person):
    client = APIClient()
    client.force_authenticate(person)
    return client


def test_scorecards_with_sections_and_items(org, card):
    data = api(org.agent1).get("/api/qa/scorecards/").json()
    assert [c["name"] for c in data] == ["표준 통화 평가표"]
    detail = api(org.agent1).get(f"/api/qa/scorecards/{card.pk}/").json()
    assert len(detail["sections"]) == 3
    assert sum(len(s["items"]) for s in detail["sections"]) == 11


def test_evaluations_are_scoped(org, scored):
    ids = {e["id"] for e in api(org.agent1).get("/api/qa/evaluations/").json()}
    assert ids == {scored.pk}  # only the scored one, not the one still to do
    assert api(org.agent2).get(f"/api/qa/evaluations/{scored.pk}/").status_code == 404
    assert api(org.lead2).get(f"/api/qa/evaluations/{scored.pk}/").status_code == 404
    detail = api(org.lead1).get(f"/api/qa/evaluations/{scored.pk}/").json()
    assert detail["score"] == pytest.approx(100.0) and len(detail["answers"]) == 11
    assert len(api(org.trainer).get("/api/qa/evaluations/").json()) == 6


def test_dispute_and_resolve_through_the_api(org, scored):
    bad = api(org.agent1).post("/api/qa/disputes/", {"evaluation_id": scored.pk, "reason": ""})
    assert bad.status_code == 400
    assert (
        api(org.agent2)
        .post("/api/qa/disputes/", {"evaluation_id": scored.pk, "reason": "x"})
        .status_code
        == 404
    )
    assert (
        api(org.lead1)
        .post("/api/qa/disputes/", {"evaluation_id": scored.pk, "reason": "x"})
        .status_code
        == 403
    )
    made = api(org.agent1).post("/api/qa/disputes/", {"evaluation_id": scored.pk, "reason": "이의"})
    assert made.status_code == 201
    dispute_id = made.json()["id"]
    assert made.json()["reviewer_id"] == org.trainer.pk
    # The evaluator cannot resolve; the reviewer can.
    url = f"/api/qa/disputes/{dispute_id}/resolve/"
    body = {"decision": "uphold", "resolution": "유지"}
    assert api(org.lead1).post(url, body, format="json").status_code == 403
    assert api(org.trainer).post(url, {"decision": "maybe"}, format="json").status_code == 400
    done = api(org.trainer).post(url, body, format="json")
    assert done.status_code == 200 and done.json()["status"] == "upheld"
    assert api(org.trainer).post(url, body, format="json").status_code == 400


def test_the_schema_lists_the_qa_endpoints(org):
    schema = api(org.director).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/qa/scorecards/", "/api/qa/evaluations/", "/api/qa/disputes/"):
        assert path in text
