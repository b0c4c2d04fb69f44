"""Sampling runs as their page shows them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from agents.models import Person
from qa.models import Evaluation, SampleReason, SampleRun

SAMPLE_REASON_CHOICES = [(r.value, r.label) for r in SampleReason]


@dataclass
class SampleRunSummary:
    created: int
    agents: int
    by_evaluator: list[tuple[str, int]]  # (evaluator's name, evaluations assigned)


def sample_run_summary(run: SampleRun) -> SampleRunSummary:
    """What a sampling run added: how many evaluations, for how many agents, assigned to
    whom (the message after a run)."""
    evaluations = Evaluation.objects.filter(sample_run=run)
    rows = (
        evaluations.values("evaluator")
        .annotate(n=Count("id"))
        .order_by("-n", "evaluator__display_name", "evaluator")
    )
    people = {p.pk: p for p in Person.objects.filter(pk__in=[r["evaluator"] for r in rows])}
    return SampleRunSummary(
        created=evaluations.count(),
        agents=evaluations.values("agent").distinct().count(),
        by_evaluator=[(str(people[r["evaluator"]]), r["n"]) for r in rows],
    )
