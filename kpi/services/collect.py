"""Turning the raw rows of [start, end) into rollup rows: one function, `_compute_range`,
which the periodic fill calls per touched interval and the backfill per day. Every source
row is bucketed by its own timestamp, so a day computed at once equals its 96 intervals
computed one by one (tests pin backfill == live fill)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, Value

from agents.models import AgentState, AgentStateInterval, Department, Person
from callcenter.clock import interval_start
from kpi.formulas import contact_outcome, is_satisfied
from kpi.models import STAT_FIELDS, ScopeKind
from kpi.qa_scores import qa_scores_between
from telephony.models import Call, CallDirection, CallEvent, CallPhase, Queue, Survey
from tickets.models import PiiDetection

INTERVAL = timedelta(minutes=15)
# Transactions may commit with an updated_at a little older than the newest one seen;
# re-reading this much behind the watermark costs little because fills are idempotent.
WATERMARK_OVERLAP = timedelta(minutes=5)
HANDLING_STATES = {AgentState.ON_CALL, AgentState.WRAP_UP}
# Ringing (reserved) is idle time the agent is ready for contacts, as available is.
IDLE_STATES = {AgentState.AVAILABLE, AgentState.RESERVED}

Key = tuple[datetime, str, int]


def interval_floor(at: datetime) -> datetime:
    """The start of the rollup interval (INTERVAL long) that `at` falls in."""
    return interval_start(at, minutes=INTERVAL // timedelta(minutes=1))


def fcr_window() -> timedelta:
    return timedelta(days=settings.KPI_FCR_WINDOW_DAYS)


class _Org:
    """The chart, read once per fill: department → center, queue → threshold, person →
    (team, department, center) for sources that carry only the person."""

    def __init__(self) -> None:
        self.center_of_department = dict(Department.objects.values_list("id", "center_id"))
        self.kind_of_department = dict(Department.objects.values_list("id", "kind"))
        self.sl_seconds = dict(Queue.objects.values_list("id", "service_level_seconds"))
        self.person = {
            pid: (team_id, dept_id, center_id)
            for pid, team_id, dept_id, center_id in Person.objects.values_list(
                "id", "team_id", "team__department_id", "center_id"
            )
        }

    def person_scopes(self, person_id: int) -> list[tuple[str, int]]:
        team_id, dept_id, center_id = self.person.get(person_id, (None, None, None))
        scopes = [(ScopeKind.AGENT, person_id)]
        if team_id:
            scopes.append((ScopeKind.TEAM, team_id))
        if dept_id:
            scopes.append((ScopeKind.DEPARTMENT, dept_id))
            center_id = self.center_of_department.get(dept_id, center_id)
        if center_id:
            scopes.append((ScopeKind.CENTER, center_id))
        return scopes


def _handled_calls(start: datetime, end: datetime):
    """Handled inbound calls whose wrap-up ended in [start, end), with what the rollups
    need: transfer/escalation flags and whether a repeat contact followed within the FCR
    window (same customer, same department: the department is the contact's category)."""
    later = ExpressionWrapper(
        OuterRef("enqueued_at") + Value(fcr_window()), output_field=DateTimeField()
    )
    repeat = (
        Call.objects.filter(
            customer_id=OuterRef("customer_id"),
            department_id=OuterRef("department_id"),
            direction=CallDirection.INBOUND,
            phase=CallPhase.COMPLETED,
            enqueued_at__gt=OuterRef("enqueued_at"),
            enqueued_at__lte=later,
        )
        .exclude(sid=OuterRef("sid"))
        .values("pk")
    )
    transfers = CallEvent.objects.filter(call_id=OuterRef("pk"), kind="transfer")
    return (
        Call.objects.filter(
            direction=CallDirection.INBOUND,
            phase=CallPhase.COMPLETED,
            wrapup_ended_at__gte=start,
            wrapup_ended_at__lt=end,
        )
        .annotate(
            transferred=Exists(transfers.exclude(data__transfer_kind="escalation")),
            escalated=Exists(transfers.filter(data__transfer_kind="escalation")),
            repeated=Exists(repeat),
        )
        .order_by()
        .values_list(
            "wrapup_ended_at",
            "department_id",
            "queue_id",
            "agent_id",
            "team_id",
            "talk_seconds",
            "hold_seconds",
            "acw_seconds",
            "disposition__code",
            "customer_id",
            "enqueued_at",
            "transferred",
            "escalated",
            "repeated",
        )
    )


def _compute_range(start: datetime, end: datetime, *, now: datetime, org: _Org) -> dict:
    """Rollup counters of every interval in [start, end) (both on interval boundaries)."""
    rows: dict[Key, dict[str, float]] = defaultdict(lambda: dict.fromkeys(STAT_FIELDS, 0))

    def add(bucket: datetime, scopes, **values) -> None:
        for kind, scope_id in scopes:
            row = rows[(bucket, kind, scope_id)]
            for name, value in values.items():
                row[name] += value

    def call_scopes(dept_id, queue_id, agent_id, team_id, *, with_agent: bool = True):
        scopes = [
            (ScopeKind.CENTER, org.center_of_department[dept_id]),
            (ScopeKind.DEPARTMENT, dept_id),
            (ScopeKind.QUEUE, queue_id),
        ]
        if with_agent and agent_id:
            scopes.append((ScopeKind.AGENT, agent_id))
            if team_id:
                scopes.append((ScopeKind.TEAM, team_id))
        return scopes

    short = settings.SHORT_ABANDON_SECONDS
    # Offered contacts: inbound only (follow-up calls an agent places are not offered).
    offered = (
        Call.objects.filter(
            direction=CallDirection.INBOUND, enqueued_at__gte=start, enqueued_at__lt=end
        )
        .exclude(phase=CallPhase.FAILED)
        .order_by()
        .values_list(
            "enqueued_at",
            "segment",
            "phase",
            "answered_at",
            "queue_exit",
            "queue_wait_seconds",
            "department_id",
            "queue_id",
            "agent_id",
            "team_id",
        )
    )
    for enq, segment, phase, answered_at, exit_, wait, dept, queue, agent, team in offered:
        outcome = contact_outcome(
            direction=CallDirection.INBOUND,
            segment=segment,
            phase=phase,
            answered=answered_at is not None,
            queue_exit=exit_,
            wait=wait or 0,
            service_level_seconds=org.sl_seconds[queue],
            short_abandon_seconds=short,
        )
        if not outcome.offered:
            continue
        scopes = call_scopes(dept, queue, agent, team, with_agent=outcome.answered)
        if outcome.answered:
            add(
                interval_floor(enq),
                scopes,
                offered=1,
                answered=1,
                queue_wait_answered_seconds=wait or 0,
                answered_within_sl=int(outcome.answered_within),
            )
        else:
            add(
                interval_floor(enq),
                scopes,
                offered=1,
                abandoned=int(outcome.abandoned),
                short_abandoned=int(outcome.short_abandoned),
                abandoned_within_sl=int(outcome.abandoned_within),
            )

    main_task = settings.KPI_MAIN_TASK_DISPOSITIONS
    window = fcr_window()
    for (
        ended,
        dept,
        queue,
        agent,
        team,
        talk,
        hold,
        acw,
        code,
        customer,
        enq,
        transferred,
        escalated,
        repeated,
    ) in _handled_calls(start, end):
        # FCR counts contacts whose window has closed; a caller we cannot identify is left
        # out (no repeat could ever be seen).
        eligible = customer is not None and enq + window < now
        add(
            interval_floor(ended),
            call_scopes(dept, queue, agent, team),
            handled=1,
            talk_seconds=talk or 0,
            hold_seconds=hold or 0,
            acw_seconds=acw or 0,
            transferred=int(transferred),
            escalated=int(escalated),
            main_task_successes=int(code in main_task.get(org.kind_of_department[dept], ())),
            fcr_eligible=int(eligible),
            fcr_resolved=int(eligible and not repeated),
        )

    surveys = (
        Survey.objects.filter(
            answered_at__gte=start, answered_at__lt=end, score__isnull=False, call__isnull=False
        )
        .order_by()
        .values_list(
            "answered_at",
            "call__department_id",
            "call__queue_id",
            "call__agent_id",
            "call__team_id",
            "score",
            "resolved",
        )
    )
    for answered_at, dept, queue, agent, team, score, resolved in surveys:
        add(
            interval_floor(answered_at),
            call_scopes(dept, queue, agent, team),
            csat_responses=1,
            csat_satisfied=int(is_satisfied(score)),
            csat_score_sum=score,
            survey_resolved_answers=int(resolved is not None),
            survey_resolved_yes=int(resolved is True),
        )

    # Agent-state time, split at interval boundaries; an open interval counts up to now.
    states = (
        AgentStateInterval.objects.filter(started_at__lt=min(end, now))
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .exclude(state=AgentState.OFFLINE)
        .order_by()
        .values_list("person_id", "state", "started_at", "ended_at")
    )
    for person_id, state, began, ended in states:
        lo = max(began, start)
        hi = min(ended or now, end, now)
        scopes = org.person_scopes(person_id)
        bucket = interval_floor(lo)
        while bucket < hi:
            seconds = (min(hi, bucket + INTERVAL) - max(lo, bucket)).total_seconds()
            if seconds > 0:
                values = {"logged_in_seconds": seconds}
                if state in HANDLING_STATES:
                    values["handling_state_seconds"] = seconds
                elif state in IDLE_STATES:
                    values["available_seconds"] = seconds
                add(bucket, scopes, **values)
            bucket += INTERVAL

    for agent_id, at in (
        PiiDetection.objects.filter(at__gte=start, at__lt=end)
        .order_by()
        .values_list("agent_id", "at")
    ):
        add(interval_floor(at), org.person_scopes(agent_id), pii_detections=1)

    # Scored QA evaluations only: one with all items N/A has no score and is left out.
    for agent_id, at, score in qa_scores_between(start, end):
        add(interval_floor(at), org.person_scopes(agent_id), qa_evaluations=1, qa_score_sum=score)
    return rows
