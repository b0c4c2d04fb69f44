"""Reads about people and agent work, with their rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import QuerySet

from agents.models import AgentStatus, Person, Role
from agents.reach import people_visible_to
from agents.services import agent_status_ensure
from kpi.selectors import day_bounds
from telephony.models import Call, CallPhase, Offer, OfferStatus
from telephony.selectors import calls_visible_to
from tickets.selectors import tickets_visible_to

HOME_FOR_ROLE = {
    Role.AGENT: "agents:desktop",
    Role.TEAM_LEAD: "agents:team-board",
    Role.TRAINING_LEAD: "qa:home",
    Role.MANAGER: "kpi:dashboard",
    Role.DIRECTOR: "kpi:dashboard",
    Role.ADMIN: "agents:org-chart",
}


def home_url_name(person: Person) -> str:
    return HOME_FOR_ROLE.get(person.role, "agents:org-chart")


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


def desktop_state_for(person: Person) -> DesktopState:
    """What the agent's desktop shows right now: their state, the offered or active call,
    the caller's history (as far as the agent may see it)."""
    status = agent_status_ensure(person=person)
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
    from tickets.selectors import followups_for, sla_alerts_for

    state.followups = followups_for(person)
    state.sla_alerts = list(sla_alerts_for(person))
    state.requests = my_requests_for(person)
    start, _ = day_bounds()
    state.handled_today = Call.objects.filter(
        agent=person, phase=CallPhase.COMPLETED, wrapup_ended_at__gte=start
    ).count()
    return state


def roster_for(
    person: Person, *, role: str = "", team_id: int | None = None, q: str = ""
) -> QuerySet[Person]:
    qs = people_visible_to(person).select_related("team__department", "status", "reports_to")
    if role:
        qs = qs.filter(role=role)
    if team_id:
        qs = qs.filter(team_id=team_id)
    if q:
        qs = qs.filter(display_name__icontains=q) | qs.filter(username__icontains=q)
    return qs.order_by("team__department_id", "team_id", "role", "display_name")


def pending_offer_for(person: Person):
    """The call ringing for this person right now, if any."""
    return (
        Offer.objects.filter(agent=person, status=OfferStatus.PENDING)
        .select_related("call__customer", "call__queue")
        .order_by("-offered_at")
        .first()
    )


def team_board_rows_for(person: Person) -> list[Person]:
    """The team board's agents with today's handled calls and AHT (DOMAIN.md formula;
    handle time counts on the day its wrap-up ended), in two queries."""
    from kpi.selectors import NOTHING_HANDLED, handled_today

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


def pending_requests_for(person: Person):
    """The escalations and approval requests waiting for this person's decision: their
    team's (a team lead), their departments' (a manager), none for an agent."""
    from agents.reach import approval_requests_visible_to

    if person.role == Role.AGENT and not person.is_superuser:
        return []
    return list(
        approval_requests_visible_to(person)
        .filter(status="pending")
        .exclude(requester=person)
        .select_related("requester", "ticket__customer")
        .order_by("created_at")[:50]
    )


def upcoming_breaks_for(person: Person):
    """Today's and later scheduled breaks of the agents the person may see."""
    from agents.models import BreakSlot

    start, _ = day_bounds()
    return (
        BreakSlot.objects.filter(
            person__in=people_visible_to(person).filter(role=Role.AGENT), starts_at__gte=start
        )
        .select_related("person", "set_by")
        .order_by("starts_at")[:100]
    )


def schedule_today_for(person: Person) -> dict:
    """The agent's working hours today and their breaks still to come (for the desktop)."""
    from django.utils import timezone

    from agents.models import BreakSlot, WorkingHours

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
    from django.db.models import Q

    from agents.models import ApprovalRequest

    start, _ = day_bounds()
    return list(
        ApprovalRequest.objects.filter(requester=person)
        .filter(Q(status="pending") | Q(decided_at__gte=start))
        .select_related("ticket", "decided_by")
        .order_by("-created_at")[:5]
    )
