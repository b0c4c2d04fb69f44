"""What the desk reads: the agent desktop's state (the call, the caller's history, the
side cards), today's figures, and the 실장's board. Reads only: the desktop polls this
every second per agent, so nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from agents.models import (
    AgentState,
    AgentStatus,
    ApprovalRequest,
    BreakSlot,
    Person,
    Role,
    WorkingHours,
)
from agents.reach import approval_requests_visible_to, people_visible_to
from agents.targets.selectors import daily_call_target_for
from callcenter.clock import day_bounds
from kpi.selectors.today import NOTHING_HANDLED, handled_today
from telephony.models import Call, CallPhase, Offer
from telephony.selectors import calls_visible_to, pending_offer_for
from tickets.selectors import followups_for, sla_alerts_for, tickets_visible_to


@dataclass
class DesktopState:
    status: AgentStatus
    offer: Offer | None = None
    call: Call | None = None
    history_calls: list[Call] = field(default_factory=list)
    history_tickets: list = field(default_factory=list)
    unfinished: list[Call] = field(default_factory=list)
    handled_today: int = 0
    followups: list = field(default_factory=list)
    sla_alerts: list = field(default_factory=list)
    requests: list = field(default_factory=list)


def agent_status_of(person: Person) -> AgentStatus:
    """The person's status; one who never chose a state is Offline. The row is created by
    the first state they choose (agents.services.states.agent_set_state), never by looking."""
    status = AgentStatus.objects.filter(person=person).first()
    if status is None:
        status = AgentStatus(person=person, state=AgentState.OFFLINE, since=timezone.now())
    return status


def desktop_state_for(person: Person) -> DesktopState:
    """What the agent's desktop shows right now: their state, the offered or active call,
    the caller's history (as far as the agent may see it)."""
    status = agent_status_of(person)
    offer = pending_offer_for(person)
    call = (
        Call.objects.filter(
            agent=person, phase__in=[CallPhase.DIALING, CallPhase.CONNECTED, CallPhase.WRAP_UP]
        )
        .select_related("customer", "queue", "department")
        .order_by("-answered_at")
        .first()
    )
    state = DesktopState(status=status, offer=offer, call=call)
    current = call or (offer.call if offer else None)
    if current and current.customer_id:
        state.history_calls = list(
            calls_visible_to(person)
            .filter(customer_id=current.customer_id)
            .exclude(pk=current.pk)
            .select_related("agent", "disposition")
            .order_by("-enqueued_at")[:10]
        )
        state.history_tickets = list(
            tickets_visible_to(person)
            .filter(customer_id=current.customer_id)
            .order_by("-updated_at")[:10]
        )
    # Calls whose wrap-up timer ran out before the agent submitted: still submittable.
    state.unfinished = list(
        Call.objects.filter(
            agent=person, phase=CallPhase.COMPLETED, wrapup_submitted_at__isnull=True
        ).order_by("-ended_at")[:5]
    )
    state.followups = followups_for(person)
    state.sla_alerts = list(sla_alerts_for(person))
    state.requests = my_requests_for(person)
    start, _ = day_bounds()
    state.handled_today = Call.objects.filter(
        agent=person, phase=CallPhase.COMPLETED, wrapup_ended_at__gte=start
    ).count()
    return state


@dataclass
class TodayFigures:
    handled: int
    target: int | None
    aht_seconds: float | None
    acw_seconds: float | None


def today_figures_for(person: Person, *, now: datetime | None = None) -> TodayFigures:
    """The agent's own day: calls handled vs the daily call target (the one resolved for
    their team: team, department or center), AHT and mean wrap-up time (DOMAIN.md formulas;
    handle time counts on the day its wrap-up ended)."""
    figures = handled_today([person.pk], now=now).get(person.pk, NOTHING_HANDLED)
    day = timezone.localdate(now) if now else None
    target = daily_call_target_for(person, on=day)
    return TodayFigures(
        handled=figures.handled,
        target=target,
        aht_seconds=figures.aht,
        acw_seconds=figures.acw_average,
    )


def schedule_today_for(person: Person) -> dict:
    """The agent's working hours today and their breaks still to come (for the desktop)."""
    now = timezone.localtime()
    start, end = day_bounds()
    hours = WorkingHours.objects.filter(person=person, weekday=now.weekday()).first()
    breaks = list(
        BreakSlot.objects.filter(person=person, starts_at__gte=start, starts_at__lt=end).order_by(
            "starts_at"
        )
    )
    for slot in breaks:
        slot.ends_at = slot.starts_at + timedelta(minutes=slot.minutes)
        slot.is_now = slot.starts_at <= now < slot.ends_at
    return {"hours": hours, "breaks": [b for b in breaks if b.ends_at > now]}


def my_requests_for(person: Person) -> list:
    """The agent's requests still waiting, and those decided today (so the answer reaches
    the desktop)."""
    start, _ = day_bounds()
    return list(
        ApprovalRequest.objects.filter(requester=person)
        .filter(Q(status="pending") | Q(decided_at__gte=start))
        .select_related("ticket", "decided_by")
        .order_by("-created_at")[:5]
    )


def team_board_rows_for(person: Person) -> list[Person]:
    """The team board's agents with today's handled calls and AHT (DOMAIN.md formula;
    handle time counts on the day its wrap-up ended), in two queries."""
    people = list(
        people_visible_to(person)
        .filter(role=Role.AGENT)
        .select_related("status", "team")
        .order_by("team_id", "display_name")
    )
    today = handled_today([p.pk for p in people])
    for p in people:
        figures = today.get(p.pk, NOTHING_HANDLED)
        p.calls_today = figures.handled
        p.aht_today = figures.aht
    return people


def pending_requests_for(person: Person) -> list[ApprovalRequest]:
    """The escalations and approval requests waiting for this person's decision: their
    team's (a team lead), their departments' (a manager), none for an agent."""
    if person.role == Role.AGENT and not person.is_superuser:
        return []
    return list(
        approval_requests_visible_to(person)
        .filter(status="pending")
        .exclude(requester=person)
        .select_related("requester", "ticket__customer")
        .order_by("created_at")[:50]
    )
