"""List pages do not grow their query count with the number of rows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qa.models import Evaluation, ScorecardItem
from qa.scoring import Mark
from qa.services.evaluations import evaluation_save
from qa.services.sampling import sample_run_execute, sample_run_start
from tests.factories import CallFactory


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def score_all(card):
    marks = {
        i.pk: Mark(not_applicable=True) if i.bonus else Mark(value=i.max_points)
        for i in ScorecardItem.objects.filter(section__scorecard=card)
    }
    for ev in Evaluation.objects.filter(status="assigned")[:3]:
        evaluation_save(evaluation=ev, actor=ev.evaluator, marks=marks, submit=True)


def test_queue_inbox_report_and_recordings_have_flat_query_counts(
    client, org, card, month_calls, this_month
):
    sample_run_execute(
        run_id=sample_run_start(actor=org.trainer, month=this_month, dispatch=False).pk
    )
    score_all(card)
    pages = [
        (org.lead1, reverse("qa:home")),
        (org.trainer, reverse("qa:reports")),
        (org.lead1, reverse("qa:recordings")),
    ]
    before = {}
    for person, url in pages:
        client.force_login(person)
        before[url] = queries(client, url)
    for agent in (org.agent1, org.agent2, org.agent3):
        for _ in range(4):
            CallFactory(agent=agent, recorded=True)
    sample_run_execute(
        run_id=sample_run_start(actor=org.trainer, month=this_month, seed=7, dispatch=False).pk
    )
    Evaluation.objects.filter(status="assigned").update(reason="manual")  # make room
    sample_run_execute(
        run_id=sample_run_start(actor=org.trainer, month=this_month, seed=8, dispatch=False).pk
    )
    score_all(card)
    assert Evaluation.objects.count() > 6
    for person, url in pages:
        client.force_login(person)
        assert queries(client, url) == before[url], url
