"""QA scores reach the KPI rollups (kpi/qa_scores.py reads QA's evaluations)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from kpi import qa_scores
from kpi.models import IntervalStat
from kpi.services.fill import kpi_fill_intervals
from kpi.services.watermarks import kpi_fill_incremental
from qa.models import EvaluationStatus
from tests.factories import CallFactory, EvaluationFactory
from tests.qa.conftest import card  # noqa: F401

pytestmark = pytest.mark.django_db


def qa_evaluation(org, card, call, *, score, status=EvaluationStatus.SUBMITTED, **extra):  # noqa: F811
    return EvaluationFactory(
        call=call, scorecard=card, evaluator=org.lead1, status=status, score=score, **extra
    )


def test_scored_evaluations_count_at_the_time_of_their_call(org, card):  # noqa: F811
    at = timezone.now() - timedelta(hours=2)
    call = CallFactory(agent=org.agent1, ended=at, recorded=True)
    other = CallFactory(agent=org.agent1, ended=at, recorded=True)
    qa_evaluation(org, card, call, score=80.0)
    qa_evaluation(org, card, other, score=None)  # all N/A: no score
    draft = CallFactory(agent=org.agent1, ended=at, recorded=True)
    qa_evaluation(org, card, draft, score=50.0, status=EvaluationStatus.DRAFT)
    rows = list(qa_scores.qa_scores_between(at - timedelta(hours=1), at + timedelta(hours=1)))
    assert rows == [(org.agent1.pk, call.enqueued_at, 80.0)]
    assert set(qa_scores.qa_changed_since(None)) >= {call.enqueued_at}


def test_the_qa_average_moves_in_the_rollups_when_a_score_changes(org, card):  # noqa: F811
    at = timezone.now() - timedelta(hours=2)
    call = CallFactory(agent=org.agent1, ended=at, recorded=True)
    kpi_fill_incremental()
    evaluation = qa_evaluation(org, card, call, score=70.0)
    kpi_fill_incremental()

    def agent_qa():
        return IntervalStat.objects.filter(scope_kind="agent", scope_id=org.agent1.pk).aggregate(
            n=Sum("qa_evaluations"), s=Sum("qa_score_sum")
        )

    assert agent_qa() == {"n": 1, "s": 70.0}
    evaluation.score = 90.0  # a dispute changed it
    evaluation.save()
    kpi_fill_incremental()
    assert agent_qa() == {"n": 1, "s": 90.0}
    kpi_fill_intervals(starts=[])  # nothing to refill
    assert agent_qa() == {"n": 1, "s": 90.0}
