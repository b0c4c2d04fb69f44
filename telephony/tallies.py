"""Live tallies: what a wallboard shows, per queue and for the center, updated on every event.

What is counted (the same rules as the KPI rollups in kpi/services.py, and the ratios come
from kpi/formulas.py):

- today = the center's day (kpi.selectors.day_bounds); a call belongs to the day it was
  enqueued (offered) in. Outbound calls and FAILED calls are not offered.
- offered: inbound calls enqueued today · answered: answered_at set · answered within the
  queue's service-level threshold T (wait ≤ T) · abandoned: phase ABANDONED (a callback
  request is never an abandon) · short abandons: abandoned with wait < SHORT_ABANDON_SECONDS
  · abandoned within T (wait ≤ T): what the other service-level variants need. The service
  level is the variant the center chose (KPI_SERVICE_LEVEL_VARIANT), as on the KPI pages.
- waiting now / longest wait: callers on the line in QUEUED or OFFERED (ringing an agent);
  booked callbacks keep their place but are counted apart as `callbacks`.
- agents by state: every person with a queue membership, in each of their queues; the
  center counts each person once.

How it stays right: each call and each agent has ONE record derived from its database row
after commit (`transaction.on_commit`, so rolled-back work never counts), carrying a version
(the call's newest CallEvent id, the agent's newest AgentStateInterval id). An update
replaces the old record with the new one and moves the counters by the difference; an
update with an older version than the stored one is ignored. So any order or repetition of
callbacks, re-reads and rebuilds ends in the same numbers: the numbers the rows say. A
routing run (acd_route) commits a batch every few milliseconds; its batches' refreshes are
made together at the run's end, or at the first commit after the oldest has waited
DEFERRED_UP_TO_SECONDS (`tallies_deferred`).

Stores:

- Redis (settings.REDIS_URL): keys under `tallies:`. Per call a hash `tallies:call:<id>`,
  per day and queue the counters `tallies:day:<YYYY-MM-DD>:q:<id>`, live callers in sorted
  sets `tallies:waiting:<queue>` / `tallies:callback:<queue>` (score = enqueued_at), agents
  in `tallies:agent:<id>` with counts in `tallies:agents:q:<queue>` and
  `tallies:agents:c:<center>`. Each update is one Lua script (atomic). `tallies:v` counts
  changes: the wallboard's etag. `tallies:built:<day>` marks that today's tallies were
  built; when it is missing (Redis flushed or restarted, a new day) the next reader
  rebuilds from the database under a short lock. At most once a minute a reader also
  compares Redis with a fresh count from the database and rebuilds if they drifted (e.g. a
  queue membership changed in the admin, which is not an event); a disagreement is looked
  at again after CHECK_SETTLE_SECONDS first, since a refresh may be on its way.
- In-process (no REDIS_URL): the same records in this process's memory. The web server,
  the Celery worker and the simulator are separate processes, so this process misses
  events that others commit. Every read therefore first asks the database how many
  CallEvent and AgentStateInterval rows exist above the watermark of the last rebuild
  (one read of each primary key from the watermark up); if that is not exactly the number
  of events this process applied itself, the store is rebuilt from the database before
  answering. A reader never returns numbers older than the database. Events are applied
  in-process only once a reader has built the store (a worker that never reads pays
  nothing). The version (etag) is derived from the database watermark, so it is the same
  in every process.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.utils import timezone

from agents.models import AgentState, AgentStateInterval, AgentStatus, QueueMembership
from callcenter.precompiled import Precompiled
from callcenter.redis_health import REDIS_ERRORS, client_options, redis_down, redis_failed
from kpi import formulas
from kpi.formulas import contact_outcome
from kpi.selectors import day_bounds
from telephony.models import Call, CallDirection, CallEvent, CallPhase, Queue

if TYPE_CHECKING:
    from agents.models import Person

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
WAITING_PHASES = {CallPhase.QUEUED, CallPhase.OFFERED}
KEY_TTL_SECONDS = 3 * 24 * 3600
CHECK_EVERY_SECONDS = 60
# How long a disagreement found by the check is given to settle before a rebuild.
CHECK_SETTLE_SECONDS = 0.5
# In-process: up to this many events and intervals written by other processes are caught
# up call by call; more are cheaper to read in one rebuild.
CATCH_UP_LIMIT = 2_000


def service_level_target() -> float:
    """The center's service-level target (DOMAIN.md: 80 %)."""
    return float(getattr(settings, "SERVICE_LEVEL_TARGET", 0.80))


# --- Records: one per call, one per agent -------------------------------------------------


@dataclass(frozen=True)
class CallRecord:
    id: int
    version: int
    day: str
    queue_id: int
    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    abandoned_within: int = 0
    wait_answered: float = 0.0
    live: str = ""  # "waiting" | "callback" | ""
    enqueued: float = 0.0  # epoch seconds


@dataclass(frozen=True)
class AgentRecord:
    person_id: int
    version: int
    state: str
    queue_ids: tuple[int, ...]
    center_id: int | None


_CALL_FIELDS = (
    "id",
    "enqueued_at",
    "answered_at",
    "phase",
    "direction",
    "queue_id",
    "queue_wait_seconds",
    "callback_requested_at",
    "segment",
    "queue_exit",
    "queue__service_level_seconds",
)


def _day_of(at: datetime) -> str:
    return timezone.localtime(at).date().isoformat()


def _call_record(row: dict) -> CallRecord:
    """The call's contribution, by the rule the KPI rollups use (kpi.formulas)."""
    wait = row["queue_wait_seconds"] or 0
    is_callback = row["callback_requested_at"] is not None
    inbound = row["direction"] == CallDirection.INBOUND
    outcome = contact_outcome(
        direction=row["direction"],
        segment=row["segment"],
        phase=row["phase"],
        answered=row["answered_at"] is not None,
        queue_exit=row["queue_exit"],
        wait=wait,
        service_level_seconds=row["queue__service_level_seconds"],
        short_abandon_seconds=settings.SHORT_ABANDON_SECONDS,
    )
    offered, answered, abandoned = outcome.offered, outcome.answered, outcome.abandoned
    live = ""
    if inbound and row["phase"] in WAITING_PHASES:
        live = "callback" if is_callback else "waiting"
    return CallRecord(
        id=row["id"],
        version=row["v"] or 0,
        day=_day_of(row["enqueued_at"]),
        queue_id=row["queue_id"],
        offered=int(offered),
        answered=int(answered),
        answered_within=int(outcome.answered_within),
        abandoned=int(abandoned),
        short_abandoned=int(outcome.short_abandoned),
        abandoned_within=int(outcome.abandoned_within),
        wait_answered=float(wait) if answered else 0.0,
        live=live,
        enqueued=row["enqueued_at"].timestamp(),
    )


def _call_values(qs):
    return qs.values(*_CALL_FIELDS).annotate(v=Max("events__id")).order_by()


def _call_rows(qs) -> list[CallRecord]:
    return [_call_record(row) for row in _call_values(qs)]


# The records of up to this many calls or agents (a routing batch's, one webhook's) are read
# by statements compiled once per number of ids; more (a catch-up) through the ORM.
COMPILED_UP_TO = 50


@functools.lru_cache(maxsize=64)
def _calls_compiled(n: int) -> Precompiled:
    """The records of n calls (one webhook's, a routing batch's): compiled once per n."""
    return Precompiled(
        lambda *ids: _call_values(Call.objects.filter(pk__in=ids)).values_list(*_CALL_FIELDS, "v"),
        *[int] * n,
    )


def _call_records_of(ids: list[int]) -> list[CallRecord]:
    ids = sorted(set(ids))
    if not ids:
        return []
    if len(ids) > COMPILED_UP_TO:
        return _call_rows(Call.objects.filter(pk__in=ids))
    return [
        _call_record(dict(zip((*_CALL_FIELDS, "v"), row, strict=True)))
        for row in _calls_compiled(len(ids)).rows(*ids)
    ]


def _agent_queries(statuses, members):
    newest = (
        AgentStateInterval.objects.filter(person_id=OuterRef("person_id"))
        .order_by("-id")
        .values("id")[:1]
    )
    rows = statuses.filter(person__is_active=True).annotate(v=Subquery(newest))
    return (
        rows.values_list("person_id", "state", "person__center_id", "v"),
        members.values_list("person_id", "queue_id").order_by("queue_id"),
    )


@functools.lru_cache(maxsize=64)
def _agents_compiled(n: int) -> tuple[Precompiled, Precompiled]:
    """The statuses and queue memberships of n agents (a routing batch's): compiled once
    per n."""
    return (
        Precompiled(
            lambda *ids: _agent_queries(
                AgentStatus.objects.filter(person_id__in=ids), QueueMembership.objects.none()
            )[0],
            *[int] * n,
        ),
        Precompiled(
            lambda *ids: _agent_queries(
                AgentStatus.objects.none(), QueueMembership.objects.filter(person_id__in=ids)
            )[1],
            *[int] * n,
        ),
    )


def _agent_records(person_ids: list[int] | None = None) -> list[AgentRecord]:
    if person_ids is not None:
        person_ids = sorted(set(person_ids))
        if not person_ids:
            return []
    if person_ids is None or len(person_ids) > COMPILED_UP_TO:
        statuses, members = AgentStatus.objects.all(), QueueMembership.objects.all()
        if person_ids is not None:
            statuses = statuses.filter(person_id__in=person_ids)
            members = members.filter(person_id__in=person_ids)
        status_rows, member_rows = _agent_queries(statuses, members)
    else:
        statuses, members = _agents_compiled(len(person_ids))
        status_rows, member_rows = statuses.rows(*person_ids), members.rows(*person_ids)
    queues: dict[int, list[int]] = {}
    for person_id, queue_id in member_rows:
        queues.setdefault(person_id, []).append(queue_id)
    records = []
    for person_id, state, center_id, version in status_rows:
        qids = tuple(queues.get(person_id, ()))
        records.append(
            AgentRecord(
                person_id=person_id,
                version=version or 0,
                state=state,
                queue_ids=qids,
                center_id=center_id if qids else None,
            )
        )
    if person_ids is not None:
        # A deactivated person leaves every count.
        found = {r.person_id for r in records}
        records += [AgentRecord(pid, 2**62, "", (), None) for pid in person_ids if pid not in found]
    return records


def _rebuild_inputs() -> tuple[list[CallRecord], list[AgentRecord]]:
    start, end = day_bounds()
    # Today's calls and the callers on the line (a booked callback may wait since an
    # earlier day), as a UNION of two index ranges: enqueued_at, and the queue line
    # (queue, phase, …) of every queue (a call always has a queue, and a queue with calls
    # cannot be deleted). One statement with the OR reads every call ever taken: no index
    # leads with the phase. The ids are a list, not a subquery: PostgreSQL's planner may
    # join a subquery the other way round, reading the calls first.
    queue_ids = list(Queue.objects.order_by().values_list("id", flat=True))
    today = Call.objects.filter(enqueued_at__gte=start, enqueued_at__lt=end)
    waiting = Call.objects.filter(queue_id__in=queue_ids, phase__in=WAITING_PHASES)
    rows = _call_values(today).union(_call_values(waiting))
    return [_call_record(row) for row in rows], _agent_records()


# --- The snapshot a reader gets -----------------------------------------------------------


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
        """Everything that the store holds, for comparing two snapshots."""
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


# --- In-process store ---------------------------------------------------------------------


def _above(model, mark: int) -> tuple[int, int]:
    """How many rows have an id above `mark`, and the newest id, in one statement that
    reads the primary key from `mark` up (a COUNT beside a MAX over the whole table reads
    every row, on every poll). When no id is at or above `mark`, the newest id is given
    as 0, as for an empty table: below a watermark above 0, which the caller takes for
    another database, as it would the true newest id."""
    row = (
        model.objects.filter(id__gte=mark)
        .order_by()
        .aggregate(n=Count("id", filter=Q(id__gt=mark)), m=Max("id"))
    )
    return row["n"], row["m"] or 0


class MemoryStore:
    """Records and counters in this process's memory; see the module docstring."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.built = False
        self.built_at = 0.0
        self.reset()

    def reset(self) -> None:
        self.calls: dict[int, CallRecord] = {}
        self.counts: dict[tuple[str, int], Counter] = {}
        self.live: dict[tuple[str, int], dict[int, float]] = {}
        self.agents: dict[int, AgentRecord] = {}
        self.agent_q: dict[int, Counter] = {}
        self.agent_c: dict[int, Counter] = {}
        self.day = ""
        self.event_mark = 0
        self.interval_mark = 0
        self.applied_events: set[int] = set()
        self.applied_intervals: set[int] = set()

    # The same replace-and-diff as the Redis scripts below.
    def put_call(self, rec: CallRecord) -> bool:
        old = self.calls.get(rec.id)
        if old is not None and rec.version < old.version:
            return False
        if old == rec:
            return False
        if old is not None:
            self._count(old, -1)
        self._count(rec, +1)
        self.calls[rec.id] = rec
        return True

    def _count(self, rec: CallRecord, sign: int) -> None:
        c = self.counts.setdefault((rec.day, rec.queue_id), Counter())
        for name in COUNTERS:
            c[name] += sign * getattr(rec, name)
        c["wait_answered"] += sign * rec.wait_answered
        if rec.live:
            live = self.live.setdefault((rec.live, rec.queue_id), {})
            if sign > 0:
                live[rec.id] = rec.enqueued
            else:
                live.pop(rec.id, None)

    def put_agent(self, rec: AgentRecord) -> bool:
        old = self.agents.get(rec.person_id)
        if old is not None and rec.version < old.version:
            return False
        if old is not None and (old.state, old.queue_ids, old.center_id) == (
            rec.state,
            rec.queue_ids,
            rec.center_id,
        ):
            self.agents[rec.person_id] = rec
            return False
        for r, sign in ((old, -1), (rec, +1)):
            if r is None or not r.state:
                continue
            for qid in r.queue_ids:
                self.agent_q.setdefault(qid, Counter())[r.state] += sign
            if r.center_id:
                self.agent_c.setdefault(r.center_id, Counter())[r.state] += sign
        self.agents[rec.person_id] = rec
        return True

    def rebuild(self) -> None:
        with self.lock:
            # The watermark first, then the rows: everything at or below the watermark is
            # in the rows. Rows may also hold newer events; those count as not applied, so
            # the next read rebuilds again (never stale, at worst one extra rebuild).
            event_mark = CallEvent.objects.aggregate(m=Max("id"))["m"] or 0
            interval_mark = AgentStateInterval.objects.aggregate(m=Max("id"))["m"] or 0
            calls, agents = _rebuild_inputs()
            self.reset()
            self.day = day_bounds()[0].date().isoformat()
            self.event_mark, self.interval_mark = event_mark, interval_mark
            for rec in calls:
                self.put_call(rec)
            for rec in agents:
                self.put_agent(rec)
            self.built = True
            self.built_at = time.monotonic()

    def _db_marks(self) -> tuple[int, int, int, int]:
        n_ev, max_ev = _above(CallEvent, self.event_mark)
        n_iv, max_iv = _above(AgentStateInterval, self.interval_mark)
        # A database whose newest id is below our watermark is another database (tests
        # roll back; a restore): never trust the store then.
        if max_ev < self.event_mark or max_iv < self.interval_mark:
            return -1, 0, -1, 0
        return n_ev, max_ev, n_iv, max_iv

    def fresh_version(self) -> str:
        """Rebuild if the database moved on without us; the version the reader sees."""
        with self.lock:
            today = day_bounds()[0].date().isoformat()
            if not self.built or self.day != today:
                self.rebuild()
            n_ev, max_ev, n_iv, max_iv = self._db_marks()
            if n_ev != len(self.applied_events) or n_iv != len(self.applied_intervals):
                # At most CHECK_EVERY_SECONDS after the last rebuild the whole day is read
                # again, which also repairs what catching up cannot see: a change that writes
                # no event (a queue membership) and, on PostgreSQL, an event committed after
                # one with a higher id was read.
                stale = time.monotonic() - self.built_at > CHECK_EVERY_SECONDS
                if n_ev < 0 or stale or n_ev + n_iv > CATCH_UP_LIMIT or not self._catch_up():
                    self.rebuild()
                max_ev, max_iv = self.event_mark, self.interval_mark
            return f"{self.day}.{max_ev}.{max_iv}"

    def _catch_up(self) -> bool:
        """What other processes wrote since the watermark, without a rebuild: the calls
        and agents behind the events and intervals this process has not applied are read
        again (their records are versioned) and the watermarks move past them. A rebuild
        reads every call of the day; on a busy day that is most of a second, on every
        wallboard poll that follows another process's write."""
        events = list(CallEvent.objects.filter(id__gt=self.event_mark).values_list("id", "call_id"))
        intervals = list(
            AgentStateInterval.objects.filter(id__gt=self.interval_mark).values_list(
                "id", "person_id"
            )
        )
        if len(events) + len(intervals) > CATCH_UP_LIMIT:
            return False
        calls = sorted({c for i, c in events if i not in self.applied_events})
        people = sorted({p for i, p in intervals if i not in self.applied_intervals})
        for rec in _call_records_of(calls):
            self.put_call(rec)
        for rec in _agent_records(people):
            self.put_agent(rec)
        # Everything up to the new watermarks is applied now.
        self.event_mark = max([self.event_mark, *(i for i, _c in events)])
        self.interval_mark = max([self.interval_mark, *(i for i, _p in intervals)])
        self.applied_events = {i for i in self.applied_events if i > self.event_mark}
        self.applied_intervals = {i for i in self.applied_intervals if i > self.interval_mark}
        return True

    def apply_call(self, rec: CallRecord, event_id: int | None) -> None:
        with self.lock:
            if not self.built:
                return
            self.put_call(rec)
            if event_id and event_id > self.event_mark:
                self.applied_events.add(event_id)

    def apply_agent(self, rec: AgentRecord) -> None:
        with self.lock:
            if not self.built:
                return
            self.put_agent(rec)
            if rec.version > self.interval_mark:
                self.applied_intervals.add(rec.version)

    def apply_calls(self, items: list[tuple[CallRecord, list[int | None]]]) -> None:
        for rec, event_ids in items:
            for event_id in event_ids:
                self.apply_call(rec, event_id)

    def apply_agents(self, recs: list[AgentRecord]) -> None:
        for rec in recs:
            self.apply_agent(rec)

    def apply(
        self, items: list[tuple[CallRecord, list[int | None]]], agents: list[AgentRecord]
    ) -> None:
        self.apply_calls(items)
        self.apply_agents(agents)

    def read(self, day: str, queue_ids: list[int], center_ids: list[int]) -> dict:
        with self.lock:
            out: dict = {"q": {}, "c": {}}
            for qid in queue_ids:
                waiting = self.live.get(("waiting", qid), {})
                out["q"][qid] = {
                    "counts": dict(self.counts.get((day, qid), Counter())),
                    "waiting": len(waiting),
                    "oldest": min(waiting.values(), default=None),
                    "callbacks": len(self.live.get(("callback", qid), {})),
                    "agents": dict(self.agent_q.get(qid, Counter())),
                }
            for cid in center_ids:
                out["c"][cid] = dict(self.agent_c.get(cid, Counter()))
            return out


_memory = MemoryStore()


# --- Redis store --------------------------------------------------------------------------

P = "tallies:"

# KEYS: none (one Redis, keys built from the prefix). ARGV: id, version, day, queue,
# offered, answered, answered_within, abandoned, short_abandoned, abandoned_within,
# wait_answered, live, enqueued, ttl. Returns 1 when something changed. A record stored
# before a counter was added lacks its field: counted as 0.
PUT_CALL = """
local p = 'tallies:'
local id = ARGV[1]
local ck = p .. 'call:' .. id
local newv = tonumber(ARGV[2])
local ttl = tonumber(ARGV[14])
local old = redis.call('HMGET', ck, 'v', 'sig', 'day', 'q', 'o', 'a', 'w', 'ab', 'sh', 'aw', 'ws', 'live')
if old[1] and newv < tonumber(old[1]) then return 0 end
local sig = table.concat(ARGV, '|', 3, 13)
if old[2] == sig then
  redis.call('HSET', ck, 'v', ARGV[2])
  return 0
end
local ints = {'o', 'a', 'w', 'ab', 'sh', 'aw'}
if old[1] then
  local dk = p .. 'day:' .. old[3] .. ':q:' .. old[4]
  for i, f in ipairs(ints) do
    local n = tonumber(old[4 + i]) or 0
    if n ~= 0 then redis.call('HINCRBY', dk, f, -n) end
  end
  local ws = tonumber(old[11]) or 0
  if ws ~= 0 then redis.call('HINCRBYFLOAT', dk, 'ws', -ws) end
  if old[12] and old[12] ~= '' then redis.call('ZREM', p .. old[12] .. ':' .. old[4], id) end
end
local dk = p .. 'day:' .. ARGV[3] .. ':q:' .. ARGV[4]
for i, f in ipairs(ints) do
  local n = tonumber(ARGV[4 + i])
  if n ~= 0 then redis.call('HINCRBY', dk, f, n) end
end
if tonumber(ARGV[11]) ~= 0 then redis.call('HINCRBYFLOAT', dk, 'ws', ARGV[11]) end
redis.call('EXPIRE', dk, ttl)
if ARGV[12] ~= '' then redis.call('ZADD', p .. ARGV[12] .. ':' .. ARGV[4], ARGV[13], id) end
redis.call('HSET', ck, 'v', ARGV[2], 'sig', sig, 'day', ARGV[3], 'q', ARGV[4], 'o', ARGV[5],
  'a', ARGV[6], 'w', ARGV[7], 'ab', ARGV[8], 'sh', ARGV[9], 'aw', ARGV[10], 'ws', ARGV[11],
  'live', ARGV[12])
redis.call('EXPIRE', ck, ttl)
redis.call('INCR', p .. 'v')
return 1
"""

# ARGV: person id, version, state ('' = counted nowhere), queue ids "1,2", center id or ''.
PUT_AGENT = """
local p = 'tallies:'
local ak = p .. 'agent:' .. ARGV[1]
local newv = tonumber(ARGV[2])
local old = redis.call('HMGET', ak, 'v', 's', 'qs', 'c')
if old[1] and newv < tonumber(old[1]) then return 0 end
if old[1] and old[2] == ARGV[3] and old[3] == ARGV[4] and old[4] == ARGV[5] then
  redis.call('HSET', ak, 'v', ARGV[2])
  return 0
end
if old[1] and old[2] ~= '' then
  for q in string.gmatch(old[3], '[^,]+') do redis.call('HINCRBY', p .. 'agents:q:' .. q, old[2], -1) end
  if old[4] ~= '' then redis.call('HINCRBY', p .. 'agents:c:' .. old[4], old[2], -1) end
end
if ARGV[3] ~= '' then
  for q in string.gmatch(ARGV[4], '[^,]+') do redis.call('HINCRBY', p .. 'agents:q:' .. q, ARGV[3], 1) end
  if ARGV[5] ~= '' then redis.call('HINCRBY', p .. 'agents:c:' .. ARGV[5], ARGV[3], 1) end
end
redis.call('HSET', ak, 'v', ARGV[2], 's', ARGV[3], 'qs', ARGV[4], 'c', ARGV[5])
redis.call('INCR', p .. 'v')
return 1
"""


@cache
def _redis():
    return _redis_for(settings.REDIS_URL)


@functools.lru_cache(maxsize=4)
def _redis_for(url: str):
    """One client (and connection pool) per process and URL, not one per event."""
    import redis

    client = redis.Redis.from_url(url, decode_responses=True, **client_options())
    return client, client.register_script(PUT_CALL), client.register_script(PUT_AGENT)


def _run_scripts(client, batch: list[tuple[Any, list]]) -> None:
    """EVALSHA each (script, arguments) in one pipeline. redis-py would first ask SCRIPT
    EXISTS, a round trip of its own, on every pipeline; here a server that lost the
    scripts (a restart, SCRIPT FLUSH) answers NOSCRIPT, and they are loaded and the batch
    sent again, which the versioned records make harmless."""
    from redis.exceptions import NoScriptError

    if not batch:
        return
    for attempt in range(2):
        pipe = client.pipeline(transaction=False)
        for script, args in batch:
            pipe.evalsha(script.sha, 0, *args)
        try:
            pipe.execute()
            return
        except NoScriptError:
            if attempt:
                raise
            for script in {script for script, _args in batch}:
                script.sha = client.script_load(script.script)


def _call_args(rec: CallRecord) -> list:
    return [
        rec.id,
        rec.version,
        rec.day,
        rec.queue_id,
        rec.offered,
        rec.answered,
        rec.answered_within,
        rec.abandoned,
        rec.short_abandoned,
        rec.abandoned_within,
        repr(rec.wait_answered),
        rec.live,
        repr(rec.enqueued),
        KEY_TTL_SECONDS,
    ]


def _agent_args(rec: AgentRecord) -> list:
    return [
        rec.person_id,
        rec.version,
        rec.state,
        ",".join(map(str, rec.queue_ids)),
        rec.center_id or "",
    ]


class RedisStore:
    def rebuild(self) -> None:
        client, put_call, put_agent = _redis()
        # Delete first, then read the database: anything committed before the read is in
        # it, anything after arrives as its own versioned update and merges correctly.
        keys = [k for k in client.scan_iter(match=P + "*", count=1000) if k != P + "v"]
        keys = [k for k in keys if not k.startswith(P + "lock:")]
        for i in range(0, len(keys), 500):
            client.delete(*keys[i : i + 500])
        calls, agents = _rebuild_inputs()
        pipe = client.pipeline(transaction=False)
        for rec in calls:
            put_call(args=_call_args(rec), client=pipe)
        for rec in agents:
            put_agent(args=_agent_args(rec), client=pipe)
        pipe.set(P + "built:" + day_bounds()[0].date().isoformat(), 1, ex=KEY_TTL_SECONDS)
        pipe.incr(P + "v")
        pipe.execute()

    def _ensure_built(self, client, day: str) -> None:
        if client.exists(P + "built:" + day):
            return
        if client.set(P + "lock:rebuild", 1, nx=True, ex=30):
            try:
                self.rebuild()
            finally:
                client.delete(P + "lock:rebuild")

    def fresh_version(self) -> str:
        client, _, _ = _redis()
        day = day_bounds()[0].date().isoformat()
        _after_outage(client)
        self._ensure_built(client, day)
        if client.set(P + "lock:check", 1, nx=True, ex=CHECK_EVERY_SECONDS):
            tallies_check()
        return f"{day}.{client.get(P + 'v') or 0}"

    def apply(
        self, items: list[tuple[CallRecord, list[int | None]]], agents: list[AgentRecord]
    ) -> None:
        """Every record in one round trip (each call once: its record is versioned)."""
        client, put_call, put_agent = _redis()
        batch = [(put_call, _call_args(rec)) for rec, _event_ids in items]
        batch += [(put_agent, _agent_args(rec)) for rec in agents]
        _run_scripts(client, batch)
        _after_outage(client)

    def read(self, day: str, queue_ids: list[int], center_ids: list[int]) -> dict:
        client, _, _ = _redis()
        pipe = client.pipeline(transaction=False)
        for qid in queue_ids:
            pipe.hgetall(f"{P}day:{day}:q:{qid}")
            pipe.zcard(f"{P}waiting:{qid}")
            pipe.zrange(f"{P}waiting:{qid}", 0, 0, withscores=True)
            pipe.zcard(f"{P}callback:{qid}")
            pipe.hgetall(f"{P}agents:q:{qid}")
        for cid in center_ids:
            pipe.hgetall(f"{P}agents:c:{cid}")
        res = iter(pipe.execute())
        out: dict = {"q": {}, "c": {}}
        names = {"o": "offered", "a": "answered", "w": "answered_within", "ab": "abandoned"}
        names |= {"sh": "short_abandoned", "aw": "abandoned_within", "ws": "wait_answered"}
        for qid in queue_ids:
            raw, waiting, oldest, callbacks, agents = (next(res) for _ in range(5))
            out["q"][qid] = {
                "counts": {names[k]: float(v) for k, v in raw.items() if k in names},
                "waiting": waiting,
                "oldest": oldest[0][1] if oldest else None,
                "callbacks": callbacks,
                "agents": {k: int(v) for k, v in agents.items()},
            }
        for cid in center_ids:
            out["c"][cid] = {k: int(v) for k, v in next(res).items()}
        return out


# --- Redis going away (callcenter.redis_health) ---------------------------------------------
# While Redis is down this process reads and keeps the tallies in-process, from the
# database (exact, like every process without Redis), and remembers that Redis missed its
# changes: once Redis answers again it drops today's "built" mark, so the next reader
# rebuilds Redis's copy from the rows (a Redis restarted empty has no mark anyway).
_missed = False


def _store() -> MemoryStore | RedisStore:
    return RedisStore() if settings.REDIS_URL and not redis_down() else _memory


def _redis_lost(exc: BaseException) -> None:
    global _missed
    _missed = True
    redis_failed(exc, "live tallies")


def _after_outage(client) -> None:
    global _missed
    if _missed:
        client.delete(P + "built:" + day_bounds()[0].date().isoformat())
        _missed = False


def _with_store(use):
    """use(store) on the configured store; on the in-process one if Redis fails."""
    store = _store()
    if isinstance(store, RedisStore):
        try:
            return use(store)
        except REDIS_ERRORS as exc:
            _redis_lost(exc)
    return use(_memory)


# --- Hooks: called from telephony.services.common._event and agents.services.agent_transition


class _Pending:
    """What one transaction changed, refreshed once after its commit: a routing batch that
    touches 25 calls and 25 agents costs two reads and one Redis round trip, not fifty."""

    def __init__(self) -> None:
        self.calls: dict[int, list[int | None]] = {}
        self.written: dict[int, CallRecord] = {}
        self.agents: set[int] = set()
        self.done = False

    def flush(self) -> None:
        self.done = True  # later changes belong to the next transaction
        deferral = _deferral()
        if deferral is not None:
            deferral.take(self)  # committed: refreshed with the block's others
            return
        _refresh_now(self.calls, self.agents, self.written)

    def merge(self, other: _Pending) -> None:
        for call_id, event_ids in other.calls.items():
            self.calls.setdefault(call_id, []).extend(event_ids)
        self.written.update(other.written)  # a later transaction's write is the newer one
        self.agents |= other.agents


# A routing run's refreshes are made at its end, or at its first commit after the oldest
# has waited this long (tallies_deferred).
DEFERRED_UP_TO_SECONDS = 0.25


class _Deferral:
    """The committed transactions' refreshes of one tallies_deferred block."""

    def __init__(self, max_seconds: float) -> None:
        self.max_seconds = max_seconds
        self.pending = _Pending()
        self.since: float | None = None

    def take(self, committed: _Pending) -> None:
        self.pending.merge(committed)
        now = time.monotonic()
        if self.since is None:
            self.since = now
        elif now - self.since >= self.max_seconds:
            self.flush()

    def flush(self) -> None:
        pending, self.pending, self.since = self.pending, _Pending(), None
        if pending.calls or pending.agents:
            _refresh_now(pending.calls, pending.agents, pending.written)


@contextmanager
def tallies_deferred(max_seconds: float = DEFERRED_UP_TO_SECONDS):
    """Inside: each transaction's refresh, made after its commit as always (so rolled-back
    work never counts), is held and made together with the others' at the end of the
    block, or at the first commit after the oldest has waited `max_seconds`. Changes made
    outside a transaction (already committed) are held alike. A routing run commits a
    batch every few milliseconds and touches each call and agent once: one refresh for the
    run (a read of the calls, one of the agents, one Redis round trip) instead of one per
    batch, which cost about a third of each batch's time on PostgreSQL. A refresh that
    cannot be made is logged, as after any commit (the next rebuild or check repairs the
    tallies)."""
    conn = transaction.get_connection()
    if getattr(conn, "_tallies_deferral", None) is not None:
        yield  # nested: the outer block refreshes
        return
    deferral = conn._tallies_deferral = _Deferral(max_seconds)
    try:
        yield
    finally:
        conn._tallies_deferral = None
        deferral.flush()


def _deferral() -> _Deferral | None:
    return getattr(transaction.get_connection(), "_tallies_deferral", None)


def _pending() -> _Pending | None:
    """This transaction's pending refreshes (None outside a transaction: refresh now)."""
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        return None
    pending = getattr(conn, "_tallies_pending", None)
    # After a rollback Django drops the on-commit callbacks, and with them our flush: a
    # pending set whose flush is no longer registered belongs to a finished transaction.
    if (
        pending is None
        or pending.done
        or not any(entry[1] == pending.flush for entry in conn.run_on_commit)
    ):
        pending = _Pending()
        conn._tallies_pending = pending
        transaction.on_commit(pending.flush, robust=True)
    return pending


def tallies_call_changed(call_id: int, event_id: int | None = None) -> None:
    """Register a refresh of this call's record for after the commit."""
    pending = _pending()
    if pending is None:
        _refresh_committed({call_id: [event_id]}, set())
    else:
        pending.calls.setdefault(call_id, []).append(event_id)


def _written_record(call: Call, event_id: int) -> CallRecord:
    row = {name: getattr(call, name) for name in _CALL_FIELDS[:-1]}
    row["queue__service_level_seconds"] = call.queue.service_level_seconds
    row["v"] = event_id
    return _call_record(row)


def tallies_call_written(call: Call, event_id: int) -> None:
    """tallies_call_changed for a call this transaction has just written as it is (an
    incoming call's INSERT, with its event `event_id`): after the commit its record is
    made from these values instead of being read back. A later change, here or in any
    other transaction, has a newer event and so a higher version, and wins wherever it
    lands first.

    Inside a savepoint (an atomic block within another) the call is read back after the
    commit instead: the savepoint may still roll back while the transaction commits, and
    the row read then says so, where the values written would count a call that never was."""
    store = _store()
    unread = isinstance(store, MemoryStore) and not store.built  # nobody reads it here
    in_savepoint = any(transaction.get_connection().savepoint_ids)
    record = (
        None if unread or in_savepoint or call.queue_id is None else _written_record(call, event_id)
    )
    written = {call.pk: record} if record is not None else {}
    pending = _pending()
    if pending is None:
        _refresh_committed({call.pk: [event_id]}, set(), written)
    else:
        pending.calls.setdefault(call.pk, []).append(event_id)
        pending.written.update(written)


def tallies_agent_changed(person_id: int) -> None:
    pending = _pending()
    if pending is None:
        _refresh_committed({}, {person_id})
    else:
        pending.agents.add(person_id)


def _refresh_committed(
    calls: dict[int, list[int | None]],
    agents: set[int],
    written: dict[int, CallRecord] | None = None,
) -> None:
    """A change made outside a transaction (already committed): refreshed now, or with
    the others of a tallies_deferred block."""
    deferral = _deferral()
    if deferral is None:
        _refresh_now(calls, agents, written)
        return
    committed = _Pending()
    committed.calls, committed.agents = calls, set(agents)
    committed.written = dict(written or {})
    deferral.take(committed)


def _refresh_now(*args) -> None:
    """_refresh for a change already committed (no transaction to wait for): like the
    after-commit hook (robust), a tally that cannot be updated (Redis down) is logged and
    left to the next rebuild or check; it never fails the change, a call already saved."""
    try:
        _refresh(*args)
    except REDIS_ERRORS as exc:
        _redis_lost(exc)
    except Exception:
        logger.exception("live tallies not updated; the next rebuild or check repairs them")


def _refresh(
    calls: dict[int, list[int | None]],
    agents: set[int],
    written: dict[int, CallRecord] | None = None,
) -> None:
    global _missed
    store = _store()
    if settings.REDIS_URL and isinstance(store, MemoryStore):
        _missed = True  # Redis is down: its copy misses this change
    if isinstance(store, MemoryStore) and not store.built:
        return
    items, unread = [], []
    for call_id, event_ids in calls.items():
        record = (written or {}).get(call_id)
        if record is not None and all(e is not None and e <= record.version for e in event_ids):
            items.append((record, event_ids))  # nothing after the write: no need to read
        else:
            unread.append(call_id)
    if unread:
        items += [(rec, calls[rec.id]) for rec in _call_records_of(unread)]
    store.apply(items, _agent_records(sorted(agents)))


# --- Public reads and maintenance ---------------------------------------------------------


def tallies_rebuild() -> None:
    """Rebuild the tallies from Call rows and AgentStatus (after a restart or flush)."""
    _with_store(lambda store: store.rebuild())


def tallies_version() -> str:
    """Changes whenever any tally may have changed: the wallboard's etag. Rebuilds first
    when the store is missing today's data or (in-process) is behind the database."""
    return _with_store(lambda store: store.fresh_version())


def _queues(scopes: list[TallyScope]):
    queue_ids = [s.id for s in scopes if s.kind == "queue"]
    center_ids = [s.id for s in scopes if s.kind == "center"]
    return Queue.objects.select_related("department__center").filter(
        Q(pk__in=queue_ids) | Q(department__center_id__in=center_ids)
    )


def tallies_snapshots(scopes: list[TallyScope], *, checked: bool = False) -> list[Tally]:
    """Live figures for each scope, in order. A center sums its queues (each call counted
    in its own queue) and counts each agent once. Scoping is the caller's business: use
    `tally_scopes_for(person)`. `checked`: the caller has just called tallies_version()."""
    queues = {q.pk: q for q in _queues(scopes)}
    center_ids = sorted({s.id for s in scopes if s.kind == "center"})
    day = day_bounds()[0].date().isoformat()

    def read(store) -> dict:
        # The in-process fallback of a Redis set-up was not brought up to date by the
        # caller's tallies_version().
        if not checked or (settings.REDIS_URL and isinstance(store, MemoryStore)):
            store.fresh_version()
        return store.read(day, sorted(queues), center_ids)

    data = _with_store(read)
    tz = timezone.get_current_timezone()
    by_queue: dict[int, Tally] = {}
    for qid, queue in queues.items():
        d = data["q"][qid]
        t = Tally("queue", qid, queue.name, queue.service_level_seconds)
        t.waiting, t.callbacks = int(d["waiting"]), int(d["callbacks"])
        if d["oldest"] is not None:
            t.oldest_enqueued_at = datetime.fromtimestamp(float(d["oldest"]), tz=tz)
        for name in COUNTERS:
            setattr(t, name, int(round(d["counts"].get(name, 0))))
        t.wait_answered_seconds = max(0.0, float(d["counts"].get("wait_answered", 0)))
        t.agents = {s: int(d["agents"].get(s, 0)) for s in AGENT_STATES}
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
        t.agents = {s: int(data["c"][scope.id].get(s, 0)) for s in AGENT_STATES}
        out.append(t)
    return out


def tallies_snapshot(scope: TallyScope) -> Tally | None:
    found = tallies_snapshots([scope])
    return found[0] if found else None


def tally_scopes_for(person: Person, *, queue_id: int | None = None) -> list[TallyScope]:
    """What the person's wallboard shows, through telephony.selectors. A queue they may not see
    is a 404 (no existence leak)."""
    from django.http import Http404

    from agents.reach import reach_of
    from telephony.selectors import queues_visible_to

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


def tallies_check(*, settle_seconds: float | None = None) -> bool:
    """Compare the store with a fresh count from the database; rebuild on drift. True when
    they agreed. Cheap: one pass over today's calls.

    A disagreement is looked at again after `settle_seconds` (CHECK_SETTLE_SECONDS) before
    anything is rebuilt: a change committed a moment ago may still be on its way to the
    store (its after-commit refresh, or a routing run's held one, DEFERRED_UP_TO_SECONDS),
    and a rebuild empties the store while it reads the database."""
    from agents.models import Center

    scopes = [TallyScope("center", cid) for cid in Center.objects.values_list("id", flat=True)]
    store = _store()
    day = day_bounds()[0].date().isoformat()
    queues = sorted(_queues(scopes).values_list("id", flat=True))
    centers = [s.id for s in scopes]
    if settle_seconds is None:
        settle_seconds = CHECK_SETTLE_SECONDS
    if _agrees(store, day, queues, centers):
        return True
    time.sleep(settle_seconds)
    if _agrees(store, day, queues, centers):
        return True
    logger.warning("tallies drifted from the database; rebuilding")
    store.rebuild()
    return False


def _agrees(store, day: str, queues: list[int], centers: list[int]) -> bool:
    """The store's figures equal a count made now from the database."""
    fresh = MemoryStore()
    fresh.rebuild()

    def norm(d: dict) -> dict:
        out = {}
        for qid, v in d["q"].items():
            counts = {k: round(float(n), 3) for k, n in v["counts"].items() if float(n)}
            oldest = None if v["oldest"] is None else round(float(v["oldest"]), 3)
            agents = {k: n for k, n in v["agents"].items() if n}
            out[("q", qid)] = (counts, int(v["waiting"]), oldest, int(v["callbacks"]), agents)
        for cid, v in d["c"].items():
            out[("c", cid)] = {k: n for k, n in v.items() if n}
        return out

    return norm(store.read(day, queues, centers)) == norm(fresh.read(day, queues, centers))
