"""The ACD: pairing waiting calls with agents, offer deadlines and the stuck-state reaper.

Locking: on PostgreSQL the router locks the call and the agent's status with
SELECT ... FOR UPDATE SKIP LOCKED and flips the agent with a conditional state check; on
SQLite transactions are IMMEDIATE, so writers are serialised. The partial unique constraints
on Offer are the backstop on both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from agents.models import AgentState, AgentStatus, QueueMembership
from agents.services.states import (
    agent_finish_work,
    agent_status_lock,
    agent_transition,
    agents_transition_bulk,
)
from telephony.models import (
    Call,
    CallPhase,
    Offer,
    OfferStatus,
    Queue,
    QueueTier,
    RoutingStrategy,
)
from telephony.services import outbound, wrapup
from telephony.services.common import _event, _events_bulk, logger

# --- Routing -----------------------------------------------------------------------------

# Calls paired per transaction when routing a whole queue: big enough that the fixed cost
# of a transaction is shared, small enough that locks are held for a few milliseconds and
# the first callers of a long line ring without waiting for many others' writes. A
# decision is made when its batch commits. On PostgreSQL (2 shared cores, 2,000 agents,
# 500 calls, stock ORM statements) a batch costs about 6 ms plus 0.25 ms per pair, most of
# the fixed part the ORM's Python for its eight statements: 15 gave about 1,500
# decisions/s at a p99 of 12-14 ms, 30 gave 2,200/s with batches of 13 ms and more
# (bench/routing.py, 2026-12-08); with precompiled SQL it was 3.5 ms plus 0.13 ms a pair.
ROUTE_BATCH = 15


@dataclass(frozen=True)
class Eligibility:
    """Who may take a call that has waited `wait` seconds: members of its queue with at
    least `min_proficiency` (tiers widen with the wait), and, once the overflow time has
    passed, every member of the overflow queue. `min_proficiency` None = nobody yet."""

    min_proficiency: int | None
    overflow_queue_id: int | None


def call_eligibility(queue: Queue, tiers: list[QueueTier], wait: float) -> Eligibility:
    if tiers:
        reached = [t.min_proficiency for t in tiers if t.after_seconds <= wait]
        min_prof = min(reached) if reached else None
    else:
        min_prof = 1
    overflow = None
    if (
        queue.overflow_queue_id
        and queue.overflow_after_seconds is not None
        and wait >= queue.overflow_after_seconds
    ):
        overflow = queue.overflow_queue_id
    return Eligibility(min_prof, overflow)


def _agent_candidates(queue: Queue, rule: Eligibility, at: datetime):
    """Available agents allowed by `rule`, in the queue's strategy order (first = chosen),
    as (person_id, available_since, own skill in this queue) rows."""
    return _candidates_query(
        queue_id=queue.pk,
        strategy=queue.strategy,
        min_proficiency=rule.min_proficiency,
        overflow_queue_id=rule.overflow_queue_id,
        # Only the arguments the strategy reads, so that the other strategies' queries keep
        # one shape (and one cached queryset) from batch to batch.
        last_offered_id=(
            queue.last_offered_person_id or 0
            if queue.strategy == RoutingStrategy.ROUND_ROBIN
            else None
        ),
        today=timezone.localdate(at) if queue.strategy == RoutingStrategy.FEWEST_CALLS else None,
    )


# The querysets of the router's two reads are built once per shape (their arguments) and
# cloned for each batch: building the filters, subqueries and annotations took about as
# long as PostgreSQL takes to run the statement. A queryset is a description of a query,
# never evaluated here (the callers slice it, which clones it), so sharing it is safe.
_SHAPES = 256


@functools.lru_cache(maxsize=_SHAPES)
def _candidates_query(
    *,
    queue_id,
    strategy: str,
    min_proficiency,
    overflow_queue_id,
    last_offered_id,
    today,
):
    membership = QueueMembership.objects.filter(person_id=OuterRef("person_id"))
    allowed = Q(pk__in=[])
    if min_proficiency is not None:
        allowed |= Q(Exists(membership.filter(queue_id=queue_id, proficiency__gte=min_proficiency)))
    if overflow_queue_id:
        allowed |= Q(Exists(membership.filter(queue_id=overflow_queue_id)))
    qs = (
        AgentStatus.objects.select_for_update(skip_locked=True, of=("self",))
        # A 실장 available for 실장 연결 only takes escalations, never queue calls.
        .filter(allowed, state=AgentState.AVAILABLE, escalations_only=False, person__is_active=True)
        # Their own skill in this queue: None or below the tier means an overflow pick.
        .annotate(
            own_skill=Subquery(membership.filter(queue_id=queue_id).values("proficiency")[:1])
        )
    )
    if strategy == RoutingStrategy.ROUND_ROBIN:
        # The next agent after the one offered last, wrapping around.
        qs = qs.annotate(
            rr_lap=Case(When(person_id__gt=last_offered_id, then=Value(0)), default=Value(1))
        ).order_by("rr_lap", "person_id")
    elif strategy == RoutingStrategy.FEWEST_CALLS:
        qs = qs.annotate(
            calls_so_far=Case(When(calls_today_date=today, then=F("calls_today")), default=Value(0))
        ).order_by("calls_so_far", "available_since", "person_id")
    elif strategy == RoutingStrategy.SKILL_LEVEL:
        qs = qs.order_by(F("own_skill").desc(nulls_last=True), "available_since", "person_id")
    else:
        qs = qs.order_by("available_since", "person_id")
    return qs.values_list("person_id", "available_since", "own_skill")


@dataclass
class Candidate:
    person_id: int
    available_since: datetime | None
    own_skill: int | None


def _candidates(queue: Queue, rule: Eligibility, at: datetime, limit: int) -> list[Candidate]:
    return [Candidate(*row) for row in _agent_candidates(queue, rule, at)[:limit]]


def _queued_calls(queue_id: int):
    return Call.objects.filter(queue_id=queue_id, phase=CallPhase.QUEUED).order_by(
        "-priority", "enqueued_at", "id"
    )


@functools.lru_cache(maxsize=_SHAPES)
def _queued_calls_locked(queue_id: int):
    """The queue's waiting calls, locked and skipping those another router holds."""
    return (
        _queued_calls(queue_id)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", "enqueued_at", "overflowed_at")
    )


@dataclass
class Pairing:
    call_id: int
    enqueued_at: datetime
    overflowed_at: datetime | None
    status: Candidate
    rule: Eligibility

    @property
    def is_overflow(self) -> bool:
        skill = self.status.own_skill
        return (
            skill is None or self.rule.min_proficiency is None or skill < self.rule.min_proficiency
        )


def _pair(queue: Queue, at: datetime, limit: int) -> list[Pairing]:
    """Lock up to `limit` waiting calls (queue order) and pair each with the first free
    agent its wait allows, in the strategy's order. Going down the lists in order gives
    exactly what `limit` single decisions in a row would give. Calls whose eligibility
    already found no agent are skipped without a query."""
    tiers = list(queue.tiers.all())  # prefetched by the callers that route in bulk
    calls = _queued_calls_locked(queue.pk)[: max(limit * 4, 50)]
    pools: dict[Eligibility, list[Candidate]] = {}
    taken: set[int] = set()
    pairs: list[Pairing] = []
    for call_id, enqueued_at, overflowed_at in calls:
        rule = call_eligibility(queue, tiers, (at - enqueued_at).total_seconds())
        if rule.min_proficiency is None and not rule.overflow_queue_id:
            continue  # nobody may take it yet
        if rule not in pools:
            pools[rule] = _candidates(queue, rule, at, limit)
        pool = pools[rule]
        while pool and pool[0].person_id in taken:
            pool.pop(0)
        if not pool:
            continue
        status = pool.pop(0)
        taken.add(status.person_id)
        pairs.append(Pairing(call_id, enqueued_at, overflowed_at, status, rule))
        if len(pairs) == limit:
            break
    return pairs


def acd_offer_batch(*, queue: Queue, limit: int, at: datetime | None = None) -> list[Offer]:
    """Offer up to `limit` of the queue's waiting calls to the agents the strategy picks
    (longest-idle by default), within the tiers and overflow each call's wait has reached.

    One transaction and a fixed number of statements however many pairs it makes. Returns
    fewer offers than `limit` when calls or agents run out (or are being routed by another
    router right now: their rows are locked and skipped).
    """
    at = at or timezone.now()
    try:
        with transaction.atomic():
            pairs = _pair(queue, at, limit)
            if not pairs:
                return []
            # The rows are locked and were read under the lock (on PostgreSQL FOR UPDATE
            # re-checks the WHERE clause on the newest row version), so the flips hold.
            call_ids = [p.call_id for p in pairs]
            # Calls that an overflow agent takes get their overflow time in the same UPDATE.
            overflowed = [p for p in pairs if p.overflowed_at is None and p.is_overflow]
            also = {}
            if overflowed:
                also["overflowed_at"] = Case(
                    When(pk__in=[p.call_id for p in overflowed], then=Value(at)),
                    default=F("overflowed_at"),
                )
            flipped = Call.objects.filter(pk__in=call_ids, phase=CallPhase.QUEUED).update(
                phase=CallPhase.OFFERED, updated_at=at, **also
            )
            if flipped != len(pairs):
                raise IntegrityError("a paired call moved under the lock")
            expires_at = at + timedelta(seconds=queue.reservation_timeout_seconds)
            offers = Offer.objects.bulk_create(
                [
                    Offer(
                        call_id=p.call_id,
                        agent_id=p.status.person_id,
                        offered_at=at,
                        expires_at=expires_at,
                        agent_idle_since=p.status.available_since,
                    )
                    for p in pairs
                ]
            )
            agents_transition_bulk(
                person_ids=[p.status.person_id for p in pairs],
                to_state=AgentState.RESERVED,
                at=at,
                last_offered_at=at,
            )
            if queue.strategy == RoutingStrategy.ROUND_ROBIN:
                last = pairs[-1].status.person_id
                Queue.objects.filter(pk=queue.pk).update(last_offered_person_id=last)
                queue.last_offered_person_id = last
            _events_bulk(
                [
                    *(
                        (p.call_id, "overflowed", None, {"to_queue": p.rule.overflow_queue_id})
                        for p in overflowed
                    ),
                    *(
                        (p.call_id, "offered", p.status.person_id, {"offer": o.pk})
                        for p, o in zip(pairs, offers, strict=True)
                    ),
                ],
                at=at,
            )
            return offers
    except IntegrityError:
        # The backstop constraints fired: another router got there first. Nothing changed.
        logger.info("acd: lost a race on queue %s, retrying later", queue.pk)
        return []


def acd_offer_next(
    *, queue_id: int, at: datetime | None = None, queue: Queue | None = None
) -> Offer | None:
    """Offer the queue's next call to the agent its strategy picks: a batch of one."""
    if queue is None:
        queue = Queue.objects.prefetch_related("tiers").get(pk=queue_id)
    offers = acd_offer_batch(queue=queue, limit=1, at=at)
    return offers[0] if offers else None


def acd_route(*, queue_id: int | None = None, at: datetime | None = None) -> list[Offer]:
    """Pair waiting calls with agents until one side runs out. Each batch commits on its
    own (its offers ring at once)."""
    queue_ids = [queue_id] if queue_id else list(Queue.objects.values_list("id", flat=True))
    offers: list[Offer] = []
    for qid in queue_ids:
        queue = Queue.objects.prefetch_related("tiers").filter(pk=qid).first()
        if queue is None:
            continue
        while True:
            batch = acd_offer_batch(queue=queue, limit=ROUTE_BATCH, at=at)
            offers.extend(batch)
            # A short batch means calls or agents ran out (or the rest are locked by
            # another router, which will pair them): no need for one more, empty,
            # transaction.
            if len(batch) < ROUTE_BATCH:
                break
    return offers


# --- Deadlines and healing (swept periodically) -------------------------------------------


def offers_expire_due(*, at: datetime | None = None) -> int:
    """Offers not answered in time: the agent becomes NOT_RESPONDING (no more offers until
    they act) and the call goes back to the queue keeping its original wait time."""
    at = at or timezone.now()
    count = 0
    due = Offer.objects.filter(status=OfferStatus.PENDING, expires_at__lt=at)
    for offer_id, call_id in due.values_list("id", "call_id"):
        with transaction.atomic():
            # Lock order everywhere: call → offer → agent status.
            call = Call.objects.select_for_update(of=("self",)).filter(pk=call_id).first()
            offer = (
                Offer.objects.select_for_update(of=("self",))
                .filter(pk=offer_id, status=OfferStatus.PENDING)
                .first()
            )
            if call is None or offer is None:
                continue
            offer.status = OfferStatus.EXPIRED
            offer.decided_at = at
            offer.save(update_fields=["status", "decided_at"])
            if call.phase == CallPhase.OFFERED:
                call.phase = CallPhase.QUEUED
                call.save(update_fields=["phase", "updated_at"])
            status = agent_status_lock(person_id=offer.agent_id)
            if status.state == AgentState.RESERVED:
                if status.requested_state:
                    # They asked for a break while it rang: that, not NOT_RESPONDING.
                    agent_finish_work(status=status, at=at)
                else:
                    agent_transition(status=status, to_state=AgentState.NOT_RESPONDING, at=at)
            _event(call, "offer_expired", at, actor_id=offer.agent_id)
            count += 1
    return count


def agents_heal_stuck(*, at: datetime | None = None) -> int:
    """The reaper: an agent RESERVED with no pending offer, or ON_CALL with no connected
    call, is stuck (a lost callback); put them back to work from what the rows say."""
    at = at or timezone.now()
    healed = 0
    reserved = AgentStatus.objects.filter(state=AgentState.RESERVED).exclude(
        person__offers__status=OfferStatus.PENDING
    )
    # A follow-up call still ringing (DIALING) holds its agent ON_CALL too.
    on_call = AgentStatus.objects.filter(state=AgentState.ON_CALL).exclude(
        person__handled_calls__phase__in=[CallPhase.CONNECTED, CallPhase.DIALING]
    )
    for person_id in [
        *reserved.values_list("person_id", flat=True),
        *on_call.values_list("person_id", flat=True),
    ]:
        with transaction.atomic():
            status = agent_status_lock(person_id=person_id)
            if (
                status.state == AgentState.RESERVED
                and not Offer.objects.filter(
                    agent_id=person_id, status=OfferStatus.PENDING
                ).exists()
            ):
                agent_finish_work(status=status, at=at)  # a break asked for still applies
                healed += 1
            elif (
                status.state == AgentState.ON_CALL
                and not Call.objects.filter(
                    agent_id=person_id, phase__in=[CallPhase.CONNECTED, CallPhase.DIALING]
                ).exists()
            ):
                agent_finish_work(status=status, at=at)
                healed += 1
    if healed:
        logger.warning("acd: healed %d stuck agent states", healed)
    return healed


def acd_sweep(*, at: datetime | None = None) -> dict[str, int]:
    """The periodic heartbeat: expire deadlines, heal stuck states, route every queue."""
    at = at or timezone.now()
    result = {
        "offers_expired": offers_expire_due(at=at),
        "wrapups_ended": wrapup.wrapups_expire_due(at=at),
        "dials_lost": outbound.dials_expire_stuck(at=at),
        "healed": agents_heal_stuck(at=at),
    }
    result["offered"] = len(acd_route(at=at))
    return result
