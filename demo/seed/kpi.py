"""Demo data for the KPI side: center and department targets, incentive bands, answered post-call
surveys over the demo's history, and the monthly performance sheets (last month closed)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from agents.models import Center, Department, DepartmentKind, Person, Role, Target, TargetMetric
from callcenter.clock import month_start
from kpi import closing, performance
from kpi.models import IncentiveBand
from kpi.services.fill import kpi_backfill
from kpi.services.watermarks import kpi_mark_filled
from telephony.models import Call, CallDirection, CallPhase, Survey, SurveyChannel

# The center's targets (every department inherits them); rates are fractions, AHT seconds.
# The demo's 70 calls a day are taken by a few agents at a time: its call target is demo-sized.
CENTER_TARGETS = {
    TargetMetric.SERVICE_LEVEL: 0.80,
    TargetMetric.AHT: 360,
    TargetMetric.CALLS_PER_DAY: 10,
    TargetMetric.CSAT: 0.80,
    TargetMetric.QA: 0.85,
}
MAIN_TASK = {
    DepartmentKind.SIGNUP: (TargetMetric.MAIN_TASK, 0.30),
    DepartmentKind.CANCELLATION: (TargetMetric.MAIN_TASK, 0.35),
    DepartmentKind.GENERAL: (TargetMetric.FCR, 0.75),
}
BANDS = [
    ("S", 110, "최우수"),
    ("A", 100, "우수"),
    ("B", 90, "양호"),
    ("C", 80, "보통"),
    ("D", 0, ""),
]
COMMENTS = [
    "친절한 응대가 좋습니다.",
    "후처리 시간을 조금 줄여 봅시다.",
    "해지 방어 멘트 연습 필요.",
]


def _seed_targets(*, days: int) -> None:
    """In effect from the month the demo's history starts (last month's evaluation needs them),
    set by the director."""
    today = timezone.localdate()
    last_month = month_start(month_start(today) - timedelta(days=1))
    since = min(last_month, month_start(today - timedelta(days=days)))
    director = Person.objects.filter(role=Role.DIRECTOR).first()
    now = timezone.now()

    def put(metric, value, **unit):
        Target.objects.get_or_create(
            **unit,
            metric=metric,
            effective_from=since,
            defaults={"value": value, "set_by": director, "set_at": now},
        )

    for center in Center.objects.all():
        for metric, value in CENTER_TARGETS.items():
            put(metric, value, center=center)
    for dept in Department.objects.all():
        put(*MAIN_TASK[dept.kind], department=dept)


def seed(*, days: int, rng_seed: int = 20261122) -> None:
    """Idempotent: existing targets, bands and surveys are kept."""
    rng = random.Random(rng_seed)  # noqa: S311 - demo data, not secrets
    _seed_targets(days=days)
    for name, minimum, description in BANDS:
        IncentiveBand.objects.get_or_create(
            min_score=minimum, defaults={"name": name, "description": description}
        )
    now = timezone.now()
    handled = Call.objects.filter(
        direction=CallDirection.INBOUND,
        phase=CallPhase.COMPLETED,
        wrapup_ended_at__gte=now - timedelta(days=days),
    ).only("sid", "agent_id", "customer_id", "from_number", "wrapup_ended_at")
    surveys = []
    for call in handled:
        roll = rng.random()
        if roll > 0.45:
            continue
        channel = SurveyChannel.IVR if roll < 0.15 else SurveyChannel.SMS
        answered = call.wrapup_ended_at + timedelta(minutes=rng.randint(1, 90))
        if answered > now:
            continue
        surveys.append(
            Survey(
                channel=channel,
                call_sid=call.sid,
                call=call,
                agent_id=call.agent_id,
                customer_id=call.customer_id,
                phone=call.from_number,
                opted_in_at=call.wrapup_ended_at if channel == SurveyChannel.IVR else None,
                sent_at=call.wrapup_ended_at,
                score=rng.choice([5, 5, 5, 4, 4, 4, 3, 2, 1]),
                resolved=rng.random() < 0.8 if channel == SurveyChannel.IVR else None,
                answered_at=answered,
                reply_text=""
                if channel == SurveyChannel.IVR
                else rng.choice(["5", "4", "감사합니다 5"]),
            )
        )
    Survey.objects.bulk_create(surveys, ignore_conflicts=True)
    kpi_backfill(start=now - timedelta(days=days), end=now)
    kpi_mark_filled(now=now)  # the backfill covered every demo call: fill onwards from here
    this_month = month_start()
    last_month = month_start(this_month - timedelta(days=1))
    director = Person.objects.filter(role=Role.DIRECTOR).first()
    for month in (last_month, this_month):
        record = performance.performance_sheets_compute(month=month)
        for sheet in record.sheets.select_related("team").order_by("id")[::7]:
            lead = Person.objects.filter(role=Role.TEAM_LEAD, team_id=sheet.team_id).first()
            if lead:
                performance.performance_sheet_comment(
                    person=lead, sheet_id=sheet.pk, text=rng.choice(COMMENTS)
                )
    if director is not None:
        closing.performance_month_close(person=director, month=last_month)
