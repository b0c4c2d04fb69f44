"""KPI reads: from rollups only, scoped by the person's reach (kpi.scopes): a unit's row of
figures for a period, its series and its volume pattern."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone

from agents.models import Person
from agents.targets.selectors import targets_resolved
from kpi import formulas
from kpi.models import LOWER_IS_BETTER, STAT_FIELDS, DailyStat, IntervalStat, TargetMetric
from kpi.scopes import KpiScope, kpi_scopes_visible_to

SUMMED = STAT_FIELDS


class KpiRow:
    """Summed counters of one unit over a range, and every metric derived from them.
    `agents_handling` (agent-days with a handled call) exists for whole-day ranges only."""

    def __init__(self, scope: KpiScope, agents_handling: int | None = None, **counters):
        self.scope = scope
        self.agents_handling = agents_handling
        self.targets = {}
        for name in STAT_FIELDS:
            setattr(self, name, counters.get(name) or 0)

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

    def service_level_by(self, variant: str) -> float | None:
        return formulas.service_level_variant(
            variant,
            answered_within=self.answered_within_sl,
            answered=self.answered,
            abandoned=self.abandoned,
            short_abandoned=self.short_abandoned,
            abandoned_within=self.abandoned_within_sl,
        )

    @property
    def service_level(self) -> float | None:
        """The variant the center chose (KPI_SERVICE_LEVEL_VARIANT)."""
        return self.service_level_by(settings.KPI_SERVICE_LEVEL_VARIANT)

    @property
    def answer_rate(self) -> float | None:
        """응대율: answered / offered."""
        return formulas.answer_rate(answered=self.answered, offered=self.offered)

    @property
    def abandon_rate(self) -> float | None:
        return formulas.abandon_rate(
            abandoned=self.abandoned, short_abandoned=self.short_abandoned, offered=self.offered
        )

    @property
    def fcr(self) -> float | None:
        return formulas.fcr(resolved=self.fcr_resolved, eligible=self.fcr_eligible)

    @property
    def survey_fcr(self) -> float | None:
        return formulas.ratio(self.survey_resolved_yes, self.survey_resolved_answers)

    @property
    def csat(self) -> float | None:
        return formulas.csat(satisfied=self.csat_satisfied, responses=self.csat_responses)

    @property
    def csat_mean(self) -> float | None:
        return formulas.ratio(self.csat_score_sum, self.csat_responses)

    @property
    def occupancy(self) -> float | None:
        return formulas.occupancy(
            handling=self.handling_state_seconds, available=self.available_seconds
        )

    @property
    def utilisation(self) -> float | None:
        return formulas.utilisation(
            handling=self.handling_state_seconds, logged_in=self.logged_in_seconds
        )

    @property
    def calls_per_agent_day(self) -> float | None:
        if self.agents_handling is None:
            return None
        return formulas.ratio(self.handled, self.agents_handling)

    @property
    def calls_per_hour(self) -> float | None:
        return formulas.calls_per_hour(
            handled=self.handled, logged_in_seconds=self.logged_in_seconds
        )

    @property
    def transfer_rate(self) -> float | None:
        return formulas.ratio(self.transferred, self.handled)

    @property
    def escalation_rate(self) -> float | None:
        return formulas.ratio(self.escalated, self.handled)

    @property
    def main_task_rate(self) -> float | None:
        return formulas.ratio(self.main_task_successes, self.handled)

    @property
    def qa_average(self) -> float | None:
        return formulas.ratio(self.qa_score_sum, self.qa_evaluations)

    def value(self, metric: str) -> float | None:
        return {
            TargetMetric.SERVICE_LEVEL: self.service_level,
            TargetMetric.AHT: self.aht,
            TargetMetric.CALLS_PER_DAY: self.calls_per_agent_day,
            TargetMetric.CSAT: self.csat,
            # QA targets are stored as fractions like every rate; the average is in points.
            TargetMetric.QA: None if self.qa_average is None else self.qa_average / 100,
            TargetMetric.MAIN_TASK: self.main_task_rate,
            TargetMetric.FCR: self.fcr,
        }[metric]

    @property
    def below_target(self) -> list[str]:
        """The metrics (with a target and a value) where this unit misses its target."""
        missed = []
        for metric, target in self.targets.items():
            actual = self.value(metric)
            if actual is None:
                continue
            if (actual > target) if metric in LOWER_IS_BETTER else (actual < target):
                missed.append(metric)
        return missed


def _on_day_boundary(moment: datetime) -> bool:
    local = timezone.localtime(moment)
    return local.time() == time.min


def _sums(scopes: list[KpiScope], start: datetime, end: datetime) -> dict:
    """Summed counters per (kind, id) over [start, end): whole days from the daily rollups,
    anything else from the 15-minute rollups. One query."""
    kinds = {s.kind for s in scopes}
    ids = {s.id for s in scopes}
    if _on_day_boundary(start) and _on_day_boundary(end):
        qs = DailyStat.objects.filter(
            day__gte=timezone.localtime(start).date(), day__lt=timezone.localtime(end).date()
        )
        extra = {"agents_handling": Sum("agents_handling")}
    else:
        qs = IntervalStat.objects.filter(interval_start__gte=start, interval_start__lt=end)
        extra = {}
    sums = (
        qs.filter(scope_kind__in=kinds, scope_id__in=ids)
        .values("scope_kind", "scope_id")
        .annotate(**{f: Sum(f) for f in STAT_FIELDS}, **extra)
    )
    return {(s["scope_kind"], s["scope_id"]): s for s in sums}


def targets_for(
    scopes: list[KpiScope], *, on: date | None = None
) -> dict[tuple[str, int], dict[str, float]]:
    """Targets per unit in effect in `on`'s month (default this month), from the one resolver
    (agents.targets.selectors: team over department over center); a queue has its
    department's. Rates are fractions, AHT seconds, calls a day a count."""
    keys = {
        (scope.kind, scope.id): ("department", scope.department_id)
        if scope.kind == "queue"
        else (scope.kind, scope.id)
        for scope in scopes
        if scope.kind != "queue" or scope.department_id
    }
    resolved = targets_resolved(set(keys.values()), on=on)
    return {(s.kind, s.id): dict(resolved.get(keys.get((s.kind, s.id)), {})) for s in scopes}


def rows_for_scopes(
    scopes: list[KpiScope], *, start: datetime, end: datetime, targets: dict | None = None
) -> list[KpiRow]:
    """Rows of these units over [start, end); pass `targets` (targets_for) to reuse them.
    The targets are those in effect on the range's last day."""
    by_key = _sums(scopes, start, end)
    if targets is None:
        last_day = timezone.localtime(end - timedelta(microseconds=1)).date()
        targets = targets_for(scopes, on=last_day)
    whole_days = _on_day_boundary(start) and _on_day_boundary(end)
    rows = []
    for scope in scopes:
        data = by_key.get((scope.kind, scope.id), {})
        row = KpiRow(
            scope,
            agents_handling=(data.get("agents_handling") or 0) if whole_days else None,
            **{f: data.get(f) for f in STAT_FIELDS},
        )
        row.targets = targets.get((scope.kind, scope.id), {})
        rows.append(row)
    return rows


def kpi_rows_for(
    person: Person,
    *,
    start: datetime,
    end: datetime,
    kinds: set[str] | None = None,
    department_id: int | None = None,
    team_id: int | None = None,
    queue_id: int | None = None,
) -> list[KpiRow]:
    """One row per chart unit the person may see, summed over [start, end) from rollups,
    optionally narrowed to a department, team or queue (within what they may see)."""
    scopes = kpi_scopes_visible_to(person)
    if kinds:
        scopes = [s for s in scopes if s.kind in kinds]
    scopes = [s for s in scopes if _in_filter(s, department_id, team_id, queue_id)]
    return rows_for_scopes(scopes, start=start, end=end)


def _in_filter(scope: KpiScope, department_id, team_id, queue_id) -> bool:
    if department_id and scope.department_id not in (None, department_id):
        return False
    if department_id and scope.kind == "center":
        return False
    if team_id and (scope.kind not in {"team", "agent"} or scope.team_id != team_id):
        return False
    return not (queue_id and (scope.kind != "queue" or scope.id != queue_id))


def kpi_scope_get_for(person: Person, kind: str, scope_id: int) -> KpiScope:
    """The unit, if the person may see its KPI; 404 otherwise (no existence leak)."""
    for scope in kpi_scopes_visible_to(person):
        if scope.kind == kind and scope.id == scope_id:
            return scope
    raise Http404


def kpi_series(
    scopes: list[KpiScope], *, start: datetime, end: datetime, grain: str
) -> dict[tuple[str, int], list[tuple[datetime | date, KpiRow]]]:
    """Per unit, one row per 15-minute interval ("interval") or per day ("day") in range;
    empty buckets are present with zero counters so charts show gaps as zeros."""
    kinds = {s.kind for s in scopes}
    ids = {s.id for s in scopes}
    if grain == "day":
        qs = DailyStat.objects.filter(
            day__gte=timezone.localtime(start).date(), day__lt=timezone.localtime(end).date()
        )
        bucket_field = "day"
        buckets = []
        cursor = timezone.localtime(start).date()
        while cursor < timezone.localtime(end).date():
            buckets.append(cursor)
            cursor += timedelta(days=1)
    else:
        qs = IntervalStat.objects.filter(interval_start__gte=start, interval_start__lt=end)
        bucket_field = "interval_start"
        buckets = []
        cursor = start
        while cursor < end:
            buckets.append(timezone.localtime(cursor))
            cursor += timedelta(minutes=15)
    values = qs.filter(scope_kind__in=kinds, scope_id__in=ids).values(
        bucket_field, "scope_kind", "scope_id", *STAT_FIELDS
    )
    found = {}
    for v in values:
        bucket = v[bucket_field]
        if isinstance(bucket, datetime):
            bucket = timezone.localtime(bucket)
        found[(v["scope_kind"], v["scope_id"], bucket)] = v
    out = {}
    for scope in scopes:
        out[(scope.kind, scope.id)] = [
            (
                b,
                KpiRow(
                    scope, **{f: found.get((scope.kind, scope.id, b), {}).get(f) for f in SUMMED}
                ),
            )
            for b in buckets
        ]
    return out


def volume_pattern(scope: KpiScope, *, start: datetime, end: datetime) -> dict:
    """Offered contacts by hour of day and by weekday (mean per day that had the hour),
    from the 15-minute rollups of one unit: what staffing plans against."""
    by_hour: dict[int, int] = defaultdict(int)
    by_weekday: dict[int, int] = defaultdict(int)
    days_per_weekday: dict[int, set] = defaultdict(set)
    days: set[date] = set()
    for interval_start, offered in IntervalStat.objects.filter(
        scope_kind=scope.kind,
        scope_id=scope.id,
        interval_start__gte=start,
        interval_start__lt=end,
        offered__gt=0,
    ).values_list("interval_start", "offered"):
        local = timezone.localtime(interval_start)
        by_hour[local.hour] += offered
        by_weekday[local.weekday()] += offered
        days_per_weekday[local.weekday()].add(local.date())
        days.add(local.date())
    n_days = max(len(days), 1)
    return {
        "hours": [(h, by_hour.get(h, 0) / n_days) for h in range(24)],
        "weekdays": [
            (d, by_weekday.get(d, 0) / max(len(days_per_weekday.get(d, ())), 1)) for d in range(7)
        ],
        "days": len(days),
    }
