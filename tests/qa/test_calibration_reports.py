"""Calibration (blind, then revealed with alignment numbers) and the QA report with CSV."""

import pytest
from django.urls import reverse

from qa.models import Evaluation, ScorecardItem
from qa.scoring import Mark
from qa.services.calibration import calibration_create, calibration_reveal
from qa.services.evaluations import evaluation_save
from qa.services.sampling import sample_run_execute, sample_run_start
from tests.factories import CallFactory


def marks_for(card, overrides=None):
    out = {}
    for item in ScorecardItem.objects.filter(section__scorecard=card):
        out[item.pk] = Mark(not_applicable=True) if item.bonus else Mark(value=item.max_points)
    out.update(overrides or {})
    return out


def test_calibration_is_blind_until_revealed_then_shows_alignment(client, org, card):
    call = CallFactory(agent=org.agent1, recorded=True)
    session = calibration_create(
        actor=org.trainer, call=call, participants=[org.lead1, org.lead2], title="11월 보정"
    )
    evs = {e.evaluator_id: e for e in session.evaluations.all()}
    assert set(evs) == {org.trainer.pk, org.lead1.pk, org.lead2.pk}
    listen = ScorecardItem.objects.get(section__scorecard=card, text="고객 요구 파악(경청·질문)")
    empathy = ScorecardItem.objects.get(section__scorecard=card, text="공감 표현과 어조")
    evaluation_save(
        evaluation=evs[org.trainer.pk], actor=org.trainer, marks=marks_for(card), submit=True
    )
    evaluation_save(
        evaluation=evs[org.lead1.pk],
        actor=org.lead1,
        marks=marks_for(card, {listen.pk: Mark(value=3)}),
        submit=True,
    )
    # Blind: lead1 cannot open lead2's or the benchmark; the trainer cannot open lead1's.
    client.force_login(org.lead1)
    assert client.get(reverse("qa:evaluation", args=[evs[org.trainer.pk].pk])).status_code == 404
    client.force_login(org.trainer)
    assert client.get(reverse("qa:evaluation", args=[evs[org.lead1.pk].pk])).status_code == 404
    page = client.get(reverse("qa:calibration", args=[session.pk]))
    assert b"alignment" not in page.content
    # Calibration scores never reach the agent.
    client.force_login(org.agent1)
    assert client.get(reverse("qa:evaluation", args=[evs[org.lead1.pk].pk])).status_code == 404
    evaluation_save(
        evaluation=evs[org.lead2.pk],
        actor=org.lead2,
        marks=marks_for(card, {listen.pk: Mark(value=5), empathy.pk: Mark(value=4)}),
        submit=True,
    )
    client.force_login(org.trainer)
    assert client.post(reverse("qa:calibration", args=[session.pk])).status_code == 302
    session.refresh_from_db()
    assert session.revealed_at is not None
    page = client.get(reverse("qa:calibration", args=[session.pk])).content.decode()
    # Σmax of the standard card without the bonus = 1+1+1 + 5+1+5+1 + 5+1+1 = 22.
    # lead1 differs by 2 points on "listen": 1 − 2/22 = 90.9 % → widthratio rounds to 91.
    # lead2 differs by 1 point on "empathy": 1 − 1/22 = 95.5 % → 95.
    assert 'data-evaluator="lead1"' in page
    assert ">91%<" in page and ">95%<" in page
    # Listen: 3…5 of 5 (40 %) flagged; empathy: 4…5 of 5 (20 %) flagged; the rest not.
    assert page.count('data-flagged="1"') == 2
    # lead1 now appears in the report's evaluator consistency.
    client.force_login(org.trainer)
    report = client.get(reverse("qa:reports")).content.decode()
    assert "90.9%" in report and "95.5%" in report


def test_only_the_facilitator_reveals_and_not_before_the_benchmark(org, card):
    from django.core.exceptions import PermissionDenied, ValidationError

    call = CallFactory(agent=org.agent1, recorded=True)
    session = calibration_create(actor=org.trainer, call=call, participants=[org.lead1], title="t")
    with pytest.raises(PermissionDenied):
        calibration_reveal(session=session, actor=org.lead1)
    with pytest.raises(ValidationError):
        calibration_reveal(session=session, actor=org.trainer)
    with pytest.raises(PermissionDenied):
        calibration_create(actor=org.lead1, call=call, participants=[org.lead2], title="t")


def test_the_report_moves_when_an_evaluation_is_submitted_and_exports_csv(
    client, org, card, month_calls, this_month
):
    run = sample_run_start(actor=org.trainer, month=this_month, dispatch=False)
    sample_run_execute(run_id=run.pk)
    client.force_login(org.trainer)
    url = reverse("qa:reports")
    before = client.get(url).content.decode()
    assert 'id="month-scored">0<' in before
    # Every agent with calls is below coverage.
    assert before.count("<td>agent") >= 3
    notice = ScorecardItem.objects.get(section__scorecard=card, text="첫인사와 소속·이름 안내")
    for i, ev in enumerate(Evaluation.objects.filter(agent=org.agent1).order_by("pk")):
        evaluation_save(
            evaluation=ev,
            actor=ev.evaluator,
            marks=marks_for(card, {notice.pk: Mark(value=0)} if i == 0 else {}),
            submit=True,
        )
    after = client.get(url).content.decode()
    assert 'id="month-scored">2<' in after
    # 오프닝 (section weight 1; items 1, 1, 2) = 3/4 → 75; overall (75 + 3·100 + 2·100)/6
    # = 95.83; the team's mean with the other call's 100 = 97.92.
    assert f'data-key="agent-{org.agent1.pk}"' in after
    csv = client.get(url, {"group": "team", "export": "scores"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert "일반 A" in text and "97.9,2,97.9,100.0" in text
    items = client.get(url, {"export": "items"}).content.decode("utf-8-sig")
    assert "첫인사와 소속·이름 안내,,2,1,50.0" in items
    coverage = client.get(url, {"export": "coverage"}).content.decode("utf-8-sig")
    assert "agent1" not in coverage and "agent2" in coverage
    assert client.get(url, {"export": "bogus"}).status_code == 400
    # Scoped: lead2 sees only team B (no agent1 row); agents do not get the report.
    client.force_login(org.lead2)
    assert f'data-key="agent-{org.agent1.pk}"' not in client.get(url).content.decode()
    client.force_login(org.agent1)
    assert client.get(url).status_code == 404


def test_bonus_items_are_not_counted_as_failures(client, org, card):
    from qa.services.sampling import evaluation_assign_manual

    call = CallFactory(agent=org.agent1, recorded=True)
    ev = evaluation_assign_manual(actor=org.lead1, call=call, evaluator=org.lead1)
    bonus = ScorecardItem.objects.get(section__scorecard=card, bonus=True)
    evaluation_save(
        evaluation=ev,
        actor=org.lead1,
        marks=marks_for(card, {bonus.pk: Mark(value=0)}),
        submit=True,
    )
    client.force_login(org.trainer)
    items = client.get(reverse("qa:reports"), {"export": "items"}).content.decode("utf-8-sig")
    assert bonus.text not in items
    assert ",1,0,0.0" in items


@pytest.mark.parametrize(
    "query",
    [
        "end=0001-03",
        "end=9999-12",
        "start=0001-07&end=9998-12",
        "start=2001-01&end=2026-01",  # 25 years: more than two years of months
        "start=1999-12",
        "end=2026-13",
    ],
)
def test_report_months_out_of_range_are_a_400_with_the_reason(client, org, query):
    client.force_login(org.trainer)
    page = client.get(f"/qa/reports/?{query}")
    assert page.status_code == 400
    assert 'class="error" role="alert"' in page.content.decode()
    assert client.get(f"/qa/reports/?{query}&export=scores").status_code == 400


def test_report_months_in_range_and_reversed_are_fine(client, org):
    client.force_login(org.trainer)
    assert client.get("/qa/reports/?start=2026-06&end=2024-07").status_code == 200
    assert client.get("/qa/reports/?start=2000-01&end=2001-12").status_code == 200


def test_csv_headers_are_translated(client, org):
    client.force_login(org.trainer)
    scores = client.get("/qa/reports/", {"group": "team", "export": "scores"})
    header = scores.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("팀,") and "평가 수" in header and "evaluations" not in header
    coverage = client.get("/qa/reports/", {"export": "coverage"}).content.decode("utf-8-sig")
    assert coverage.splitlines()[0].startswith("상담원,팀,")
