"""KPI reads: from rollups only, scoped through agents.scoping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from agents.models import Person
from agents.scoping import KpiScope, kpi_scopes_visible_to
from kpi import formulas
from kpi.models import IntervalStat

SUMMED = [
    "offered",
    "answered",
    "answered_within_sl",
    "abandoned",
    "short_abandoned",
    "queue_wait_answered_seconds",
    "handled",
    "talk_seconds",
    "hold_seconds",
    "acw_seconds",
]


@dataclass
class KpiRow:
    scope: KpiScope
    offered: int = 0
    answered: int = 0
    answered_within_sl: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    queue_wait_answered_seconds: float = 0
    handled: int = 0
    talk_seconds: float = 0
    hold_seconds: float = 0
    acw_seconds: float = 0

    @property
    def aht(self) -> float | None:
        return formulas.aht(
            talk=self.talk_seconds,
            hold=self.hold_seconds,
            acw=self.acw_seconds,
            handled=self.handled,
        )

    @property
    def asa(self) -> float | None:
        return formulas.asa(wait_answered=self.queue_wait_answered_seconds, answered=self.answered)

    def mean(self, seconds: float) -> float | None:
        return seconds / self.handled if self.handled else None

    @property
    def talk_mean(self) -> float | None:
        return self.mean(self.talk_seconds)

    @property
    def hold_mean(self) -> float | None:
        return self.mean(self.hold_seconds)

    @property
    def acw_mean(self) -> float | None:
        return self.mean(self.acw_seconds)

    @property
    def service_level(self) -> float | None:
        return formulas.service_level(
            answered_within=self.answered_within_sl,
            answered=self.answered,
            abandoned=self.abandoned,
            short_abandoned=self.short_abandoned,
        )


def day_bounds(day: datetime | None = None) -> tuple[datetime, datetime]:
    local = timezone.localtime(day or timezone.now())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def kpi_rows_for(person: Person, *, start: datetime, end: datetime) -> list[KpiRow]:
    """One row per chart unit the person may see, summed over [start, end) from rollups."""
    scopes = kpi_scopes_visible_to(person)
    kinds = {s.kind for s in scopes}
    sums = (
        IntervalStat.objects.filter(
            interval_start__gte=start, interval_start__lt=end, scope_kind__in=kinds
        )
        .values("scope_kind", "scope_id")
        .annotate(**{f: Sum(f) for f in SUMMED})
    )
    by_key = {(s["scope_kind"], s["scope_id"]): s for s in sums}
    rows = []
    for scope in scopes:
        data = by_key.get((scope.kind, scope.id), {})
        rows.append(KpiRow(scope=scope, **{f: data.get(f) or 0 for f in SUMMED}))
    return rows
