"""Live tallies: what a wallboard and the desktop's queue strip show, per queue and for the
center, counted from the database.

What is counted (the rule of the KPI rollups, kpi.formulas.contact_outcome, here as
conditions on the rows: contact_outcome_conditions):

- today = the center's day (callcenter.clock.day_bounds); a call belongs to the day it was
  enqueued (offered) in. Outbound calls and FAILED calls are not offered.
- offered, answered, answered within the queue's threshold T, abandoned, short abandons,
  abandoned within T, and the answered calls' total wait; the service level is the variant
  the center chose (KPI_SERVICE_LEVEL_VARIANT), as on the KPI pages.
- waiting now / longest wait: callers on the line in QUEUED or OFFERED (ringing an agent);
  booked callbacks keep their place but are counted apart as `callbacks`.
- agents by state: every active person with a queue membership, in each of their queues;
  the center counts each person once.

How it stays fresh: one aggregate statement over the calls and one over the agents for a
set of scopes, kept in Django's cache under the database's change mark (the newest CallEvent
and AgentStateInterval ids: every change of a call writes an event, every change of an
agent's state an interval) for at most CACHE_SECONDS. A reader first reads the mark (one
statement through two primary keys), so an event is counted by the next read, and many
screens polling the same figures share one count. What writes no event (a queue
membership changed in the admin) shows within CACHE_SECONDS.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.http import Http404
from django.utils import timezone

from agents.models import AgentState, AgentStateInterval, AgentStatus, Person, QueueMembership
from agents.reach import reach_of
from callcenter.clock import day_bounds
from callcenter.redis_health import REDIS_ERRORS, redis_down, redis_failed
from kpi import formulas
from telephony.models import Call, CallEvent, CallPhase, Queue
from telephony.selectors import queues_visible_to

logger = logging.getLogger(__name__)

AGENT_STATES = [s.value for s in AgentState]
COUNTERS = (
    "offered",
    "answered",
    "answered_within",
    "abandoned",
    "short_abandoned",
    "abandoned_within",
)
WAITING_PHASES = [CallPhase.QUEUED, CallPhase.OFFERED]
# How long one count serves every reader while the change mark stays the same.
CACHE_SECONDS = 1.0


def service_level_target() -> float:
    """The center's service-level target (DOMAIN.md: 80 %)."""
    return float(getattr(settings, "SERVICE_LEVEL_TARGET", 0.80))


@dataclass
class Tally:
    """Live figures of one queue or of the center. Ratios are None when nothing was
    measured (never 0), like every KPI."""

    kind: str  # "queue" | "center"
    id: int
    label: str
    service_level_seconds: int
    waiting: int = 0
    callbacks: int = 0
    oldest_enqueued_at: datetime | None = None
    agents: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AGENT_STATES, 0))
    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    abandoned_within: int = 0
    wait_answered_seconds: float = 0.0

    def longest_wait_seconds(self, now: datetime | None = None) -> float | None:
        if self.oldest_enqueued_at is None:
            return None
        return max(0.0, ((now or timezone.now()) - self.oldest_enqueued_at).total_seconds())

    @property
    def service_level(self) -> float | None:
        """The variant the center chose (KPI_SERVICE_LEVEL_VARIANT), as the KPI pages."""
        return formulas.service_level_variant(
            settings.KPI_SERVICE_LEVEL_VARIANT,
            answered_within=self.answered_within,
            answered=self.answered,
            abandoned=self.abandoned,
            short_abandoned=self.short_abandoned,
            abandoned_within=self.abandoned_within,
        )

    @property
    def asa(self) -> float | None:
        return formulas.asa(wait_answered=self.wait_answered_seconds, answered=self.answered)

    @property
    def abandon_rate(self) -> float | None:
        return formulas.abandon_rate(
            abandoned=self.abandoned, short_abandoned=self.short_abandoned, offered=self.offered
        )

    @property
    def agents_logged_in(self) -> int:
        return sum(n for state, n in self.agents.items() if state != AgentState.OFFLINE)

    def figures(self) -> dict:
        """Everything counted, for comparing two snapshots (and the screens' etags)."""
        return {
            "waiting": self.waiting,
            "callbacks": self.callbacks,
            "oldest": self.oldest_enqueued_at and round(self.oldest_enqueued_at.timestamp(), 3),
            "agents": {k: v for k, v in self.agents.items() if v},
            **{c: getattr(self, c) for c in COUNTERS},
            "wait_answered": round(self.wait_answered_seconds, 3),
        }


@dataclass(frozen=True)
class TallyScope:
    kind: str  # "queue" | "center"
    id: int


# --- The change mark ---------------------------------------------------------------------


def _newest(model) -> Subquery:
    return Subquery(model.objects.order_by().values(g=Value(1)).annotate(m=Max("id")).values("m"))


def tallies_version() -> str:
    """The database's change mark: the newest call event and agent state interval. Every
    counted change writes one of them, so figures cached under a mark are those of the
    rows as long as the mark stands. One statement, two reads of the end of a primary key
    (read beside a queue: without one there is nothing to count)."""
    rows = Queue.objects.order_by().annotate(e=_newest(CallEvent), a=_newest(AgentStateInterval))
    row = next(iter(rows.values_list("e", "a")[:1]), None)
    return f"{row[0] or 0}.{row[1] or 0}" if row else "0.0"


# --- Counting ------------------------------------------------------------------------------


def _call_counts(queue_ids: list[int], start: datetime, end: datetime) -> dict[int, dict]:
    """Per queue: today's counters and the line, in one statement: a UNION ALL of today's
    calls (the enqueued_at index) and the callers on the line (the queue line index). As
    one `enqueued today OR on the line` condition, the database reads every call of the
    queues ever taken: no index leads with the phase."""
    conditions = formulas.contact_outcome_conditions(
        service_level_seconds=F("queue__service_level_seconds"),
        short_abandon_seconds=settings.SHORT_ABANDON_SECONDS,
    )
    answered = conditions["answered"]
    on_line = Q(callback_requested_at__isnull=True)
    zero, no_time = Value(0), Value(None, output_field=DateTimeField())
    today = (
        Call.objects.filter(queue_id__in=queue_ids, enqueued_at__gte=start, enqueued_at__lt=end)
        .order_by()
        .values("queue_id")
        .annotate(
            **{name: Count("id", filter=q) for name, q in conditions.items()},
            wait_answered=Sum("queue_wait_seconds", filter=answered, default=0.0),
            waiting=zero,
            callbacks=zero,
            oldest=no_time,
        )
    )
    line = (
        Call.objects.filter(queue_id__in=queue_ids, phase__in=WAITING_PHASES)
        .order_by()
        .values("queue_id")
        .annotate(
            **dict.fromkeys(conditions, zero),
            wait_answered=Value(0.0),
            waiting=Count("id", filter=on_line),
            callbacks=Count("id", filter=~on_line),
            oldest=Min("enqueued_at", filter=on_line),
        )
    )
    out: dict[int, dict] = {}
    for row in today.union(line, all=True):
        d = out.setdefault(row["queue_id"], {"oldest": None})
        for name in (*COUNTERS, "wait_answered", "waiting", "callbacks"):
            d[name] = d.get(name, 0) + (row[name] or 0)
        if row["oldest"] is not None:
            d["oldest"] = row["oldest"]
    return out


def _agent_counts(queue_ids: list[int], center_ids: list[int]) -> dict[tuple[str, int], dict]:
    """Agents by state per queue and per center (each person once), in one statement."""
    active = AgentStatus.objects.filter(person__is_active=True).order_by()
    per_queue = (
        active.filter(person__skills__queue_id__in=queue_ids)
        .values("state", kind=Value("q"), scope=F("person__skills__queue_id"))
        .annotate(n=Count("person_id"))
    )
    per_center = (
        active.filter(
            Exists(QueueMembership.objects.filter(person_id=OuterRef("person_id"))),
            person__center_id__in=center_ids,
        )
        .values("state", kind=Value("c"), scope=F("person__center_id"))
        .annotate(n=Count("person_id"))
    )
    rows = per_queue.union(per_center, all=True) if center_ids else per_queue
    out: dict[tuple[str, int], dict] = {}
    for row in rows:
        out.setdefault((row["kind"], row["scope"]), {})[row["state"]] = row["n"]
    return out


def _count(scopes: list[TallyScope]) -> list[Tally]:
    queue_ids = [s.id for s in scopes if s.kind == "queue"]
    center_ids = sorted({s.id for s in scopes if s.kind == "center"})
    queues = {
        q.pk: q
        for q in Queue.objects.select_related("department__center").filter(
            Q(pk__in=queue_ids) | Q(department__center_id__in=center_ids)
        )
    }
    start, end = day_bounds()
    calls = _call_counts(sorted(queues), start, end)
    agents = _agent_counts(sorted(queues), center_ids)
    by_queue: dict[int, Tally] = {}
    for qid, queue in queues.items():
        t = Tally("queue", qid, queue.name, queue.service_level_seconds)
        d = calls.get(qid, {})
        t.waiting, t.callbacks = int(d.get("waiting", 0)), int(d.get("callbacks", 0))
        t.oldest_enqueued_at = d.get("oldest")
        for name in COUNTERS:
            setattr(t, name, int(d.get(name, 0)))
        t.wait_answered_seconds = float(d.get("wait_answered", 0))
        counted = agents.get(("q", qid), {})
        t.agents = {s: int(counted.get(s, 0)) for s in AGENT_STATES}
        by_queue[qid] = t
    out = []
    for scope in scopes:
        if scope.kind == "queue":
            if scope.id in by_queue:
                out.append(by_queue[scope.id])
            continue
        in_center = [q for q in queues.values() if q.department.center_id == scope.id]
        members = [by_queue[q.pk] for q in in_center]
        t = Tally("center", scope.id, in_center[0].department.center.name if in_center else "", 0)
        for m in members:
            t.waiting += m.waiting
            t.callbacks += m.callbacks
            for name in COUNTERS:
                setattr(t, name, getattr(t, name) + getattr(m, name))
            t.wait_answered_seconds += m.wait_answered_seconds
            if m.oldest_enqueued_at and (
                t.oldest_enqueued_at is None or m.oldest_enqueued_at < t.oldest_enqueued_at
            ):
                # The center's longest wait is judged by the threshold of the caller's queue.
                t.oldest_enqueued_at = m.oldest_enqueued_at
                t.service_level_seconds = m.service_level_seconds
        if not t.service_level_seconds:
            t.service_level_seconds = min((m.service_level_seconds for m in members), default=20)
        counted = agents.get(("c", scope.id), {})
        t.agents = {s: int(counted.get(s, 0)) for s in AGENT_STATES}
        out.append(t)
    return out


def _cache_key(scopes: list[TallyScope], mark: str) -> str:
    what = [day_bounds()[0].date().isoformat(), settings.SHORT_ABANDON_SECONDS, mark]
    what += [(s.kind, s.id) for s in scopes]
    digest = hashlib.sha1(json.dumps(what).encode(), usedforsecurity=False).hexdigest()
    return f"kpi:tallies:{digest}"


def _cached(key: str) -> list[Tally] | None:
    if settings.REDIS_URL and redis_down():
        return None
    try:
        return cache.get(key)
    except REDIS_ERRORS as exc:
        redis_failed(exc, "live tallies")
        return None


def _keep(key: str, tallies: list[Tally]) -> None:
    if settings.REDIS_URL and redis_down():
        return
    try:
        cache.set(key, tallies, CACHE_SECONDS)
    except REDIS_ERRORS as exc:
        redis_failed(exc, "live tallies")


def tallies_snapshots(scopes: list[TallyScope]) -> list[Tally]:
    """Live figures for each scope, in order. A center sums its queues (each call counted
    in its own queue) and counts each agent once. Scoping is the caller's business: use
    `tally_scopes_for(person)`."""
    if not scopes:
        return []
    key = _cache_key(scopes, tallies_version())
    found = _cached(key)
    if found is None:
        found = _count(scopes)
        _keep(key, found)
    return found


def tallies_snapshot(scope: TallyScope) -> Tally | None:
    found = tallies_snapshots([scope])
    return found[0] if found else None


def tallies_digest(tallies: list[Tally]) -> str:
    """What the tallies show, in 16 hex digits: a screen's etag."""
    shown = [(t.kind, t.id, t.label, t.service_level_seconds, t.figures()) for t in tallies]
    digest = hashlib.sha1(json.dumps(shown, default=str).encode(), usedforsecurity=False)
    return digest.hexdigest()[:16]


def tally_scopes_for(person: Person, *, queue_id: int | None = None) -> list[TallyScope]:
    """What the person's wallboard shows, through telephony.selectors. A queue they may not see
    is a 404 (no existence leak)."""
    queue_ids = list(queues_visible_to(person).values_list("id", flat=True))
    if queue_id is not None:
        if queue_id not in queue_ids:
            raise Http404
        return [TallyScope("queue", queue_id)]
    scopes = []
    if reach_of(person).center_id is not None:  # the center tile: center-wide roles
        scopes.append(TallyScope("center", person.center_id))
    return scopes + [TallyScope("queue", qid) for qid in queue_ids]


def member_tally_scopes(person: Person) -> list[TallyScope]:
    """The queues the person is a member of (their skills), in queue order: the desktop's
    queue strip. Their own queues, so no further scoping."""
    queue_ids = (
        QueueMembership.objects.filter(person=person)
        .order_by("queue_id")
        .values_list("queue_id", flat=True)
    )
    return [TallyScope("queue", qid) for qid in queue_ids]


def tallies_for(person: Person, *, queue_id: int | None = None) -> list[Tally]:
    return tallies_snapshots(tally_scopes_for(person, queue_id=queue_id))
