"""KPI's collector for QA scores: qa sits below kpi, so the rollups read its evaluations
directly (what qa/kpi_source.py fed through a settings hook before issue 19).

A scored evaluation counts for its agent at the time of the call it scored (the month of
work it judges), with its current score: a dispute that changes the score refills that
interval. Calibration scores and evaluations without a score (all items N/A) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from qa.models import SCORED_STATUSES, Evaluation


def _scored():
    return Evaluation.objects.filter(
        status__in=SCORED_STATUSES, calibration__isnull=True, score__isnull=False
    )


def qa_scores_between(start: datetime, end: datetime) -> Iterable[tuple[int, datetime, float]]:
    """(agent id, call time, score 0–100) of scored evaluations of calls in [start, end)."""
    return (
        _scored()
        .filter(call__enqueued_at__gte=start, call__enqueued_at__lt=end)
        .order_by()
        .values_list("agent_id", "call__enqueued_at", "score")
    )


def qa_changed_since(moment: datetime | None) -> Iterable[datetime]:
    """The call times of evaluations changed since `moment` (all of them when None)."""
    qs = Evaluation.objects.filter(calibration__isnull=True)
    if moment is not None:
        qs = qs.filter(updated_at__gte=moment)
    return qs.order_by().values_list("call__enqueued_at", flat=True).distinct()
