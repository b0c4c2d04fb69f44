"""SLA clocks on the center's business calendar.

A ticket's clock runs only inside business hours (`BusinessHours` of its center, in the
center's time zone), never on the center's public holidays (`tickets.Holiday`, the same
calendar the voice menu uses), and not while the ticket waits for the customer: pending
intervals are read from the ticket's own audit trail (status events), so the clock is
derived from data and recomputing it changes nothing. A center with no business hours
configured counts every hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from agents.models import Center
from tickets.models import BusinessHours, Holiday, Ticket, TicketStatus

MAX_DAYS = 800  # how far forward a due time is looked for (a broken calendar must not spin)


@dataclass(frozen=True)
class Calendar:
    tz: ZoneInfo
    hours: dict[int, list[tuple]]  # weekday → [(opens, closes)]
    holidays: frozenset[date]

    @property
    def always_open(self) -> bool:
        return not self.hours

    def _windows(self, day: date) -> list[tuple[datetime, datetime]]:
        if self.always_open:
            start = datetime.combine(day, datetime.min.time(), self.tz)
            return [(start, start + timedelta(days=1))]
        if day in self.holidays:
            return []
        windows = []
        for opens, closes in self.hours.get(day.weekday(), []):
            # Closing before opening: the window runs past midnight into the next day.
            end_day = day if closes > opens else day + timedelta(days=1)
            windows.append(
                (datetime.combine(day, opens, self.tz), datetime.combine(end_day, closes, self.tz))
            )
        return windows

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Business time between two instants."""
        if end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(self.tz).date() - timedelta(days=1)  # overnight windows
        last = end.astimezone(self.tz).date()
        while day <= last:
            for w_start, w_end in self._windows(day):
                lo, hi = max(start, w_start), min(end, w_end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime | None:
        """The instant at which `seconds` of business time have passed after `start`."""
        if seconds <= 0:
            return start
        remaining = seconds
        day = start.astimezone(self.tz).date() - timedelta(days=1)  # overnight windows
        for _ in range(MAX_DAYS):
            for w_start, w_end in self._windows(day):
                lo = max(start, w_start)
                if w_end <= lo:
                    continue
                available = (w_end - lo).total_seconds()
                if available >= remaining:
                    return lo + timedelta(seconds=remaining)
                remaining -= available
            day += timedelta(days=1)
        return None


def calendar_for_center(center_id: int) -> Calendar:
    center = Center.objects.get(pk=center_id)
    hours: dict[int, list[tuple]] = {}
    for row in BusinessHours.objects.filter(center_id=center_id):
        hours.setdefault(row.weekday, []).append((row.opens, row.closes))
    holidays = frozenset(Holiday.objects.filter(center_id=center_id).values_list("date", flat=True))
    return Calendar(tz=ZoneInfo(center.timezone), hours=hours, holidays=holidays)


def pending_intervals(ticket: Ticket, now: datetime) -> list[tuple[datetime, datetime]]:
    """When the clock stood still, from the ticket's status events (open-ended → now): while
    it waited for the customer and while it was resolved or closed (before a reopen)."""
    intervals, since = [], None
    for at, new in (
        ticket.events.filter(field="status").order_by("at", "id").values_list("at", "new_value")
    ):
        stopped = new in STOPPED_STATUSES
        if stopped and since is None:
            since = at
        elif not stopped and since is not None:
            intervals.append((since, at))
            since = None
    if since is not None:
        intervals.append((since, now))
    return intervals


@dataclass(frozen=True)
class Clock:
    target: str  # first_response | resolution | ""
    state: str  # SlaState value
    due_at: datetime | None
    elapsed_seconds: float
    target_seconds: float


def sla_clock(ticket: Ticket, *, policy, calendar: Calendar, now: datetime, pauses=None) -> Clock:
    """Where the ticket's SLA stands at `now`: the next unmet target, the business time
    spent on it (pending and earlier resolved/closed time left out), its due time and state.

    A resolved or closed ticket is MET only if the first response and the resolution both
    came within their targets; if either came late it is BREACHED, with the instant that
    target ran out as its due time."""
    from tickets.models import SlaState

    if policy is None:
        return Clock("", SlaState.NONE, None, 0, 0)
    pauses = pending_intervals(ticket, now) if pauses is None else pauses

    def spent(until: datetime) -> float:
        return calendar.business_seconds(ticket.created_at, until) - sum(
            calendar.business_seconds(a, min(b, until)) for a, b in pauses if a < until
        )

    if ticket.status in DONE_STATUSES and ticket.resolved_at is not None:
        done_at = min(ticket.resolved_at, now)
        for target, minutes, reached in (
            ("first_response", policy.first_response_minutes, ticket.first_response_at),
            ("resolution", policy.resolution_minutes, done_at),
        ):
            target_seconds = minutes * 60.0
            reached = min(reached or done_at, done_at)
            elapsed = spent(reached)
            if elapsed > target_seconds:
                due = _breach_instant(ticket, calendar, pauses, target_seconds, reached)
                return Clock(target, SlaState.BREACHED, due, elapsed, target_seconds)
        return Clock("resolution", SlaState.MET, None, elapsed, target_seconds)
    if ticket.first_response_at is None:
        target, minutes = "first_response", policy.first_response_minutes
    else:
        target, minutes = "resolution", policy.resolution_minutes
    target_seconds = minutes * 60.0
    elapsed = spent(now)
    paused = ticket.status == TicketStatus.PENDING_CUSTOMER
    if paused:
        state = SlaState.BREACHED if elapsed >= target_seconds else SlaState.PAUSED
        return Clock(target, state, None, elapsed, target_seconds)
    if elapsed >= target_seconds:
        return Clock(
            target,
            SlaState.BREACHED,
            _breach_instant(ticket, calendar, pauses, target_seconds, now),
            elapsed,
            target_seconds,
        )
    due = calendar.add_business_seconds(now, target_seconds - elapsed)
    if target_seconds - elapsed <= policy.warn_before_minutes * 60.0:
        state = SlaState.WARNING
    else:
        state = SlaState.OK
    return Clock(target, state, due, elapsed, target_seconds)


def _breach_instant(ticket, calendar: Calendar, pauses, target_seconds: float, now: datetime):
    """The instant the target ran out (for display), walking the running stretches."""
    running, cursor = [], ticket.created_at
    for a, b in sorted(pauses):
        if a > cursor:
            running.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < now:
        running.append((cursor, now))
    remaining = target_seconds
    for a, b in running:
        span = calendar.business_seconds(a, b)
        if span >= remaining:
            return calendar.add_business_seconds(a, remaining)
        remaining -= span
    return now


DONE_STATUSES = {TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.MERGED}
# Statuses during which the clock does not run (see the module docstring).
STOPPED_STATUSES = {TicketStatus.PENDING_CUSTOMER, *DONE_STATUSES}
