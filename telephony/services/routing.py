"""The ACD: pairing waiting calls with agents, offer deadlines and the stuck-state reaper.

Locking: on PostgreSQL the router locks the call and the agent's status with
SELECT ... FOR UPDATE SKIP LOCKED and flips the agent with a conditional state check; on
SQLite transactions are IMMEDIATE, so writers are serialised. The partial unique constraints
on Offer are the backstop on both.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import AgentState, AgentStatus
from agents.services import agent_finish_work, agent_status_lock, agent_transition
from telephony.models import (
    Call,
    CallPhase,
    Offer,
    OfferStatus,
    Queue,
)
from telephony.services import calls
from telephony.services.common import _event, logger

# --- Routing -----------------------------------------------------------------------------


def _lock_next_call(queue_id: int) -> Call | None:
    return (
        Call.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(queue_id=queue_id, phase=CallPhase.QUEUED)
        .order_by("-priority", "enqueued_at", "id")
        .first()
    )


def _lock_longest_idle_agent(queue_id: int) -> AgentStatus | None:
    return (
        AgentStatus.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            state=AgentState.AVAILABLE, person__skills__queue_id=queue_id, person__is_active=True
        )
        .order_by("available_since", "person_id")
        .first()
    )


def acd_offer_next(*, queue_id: int, at: datetime | None = None) -> Offer | None:
    """Offer the longest-waiting call of the queue to its longest-idle available agent.

    One atomic step; returns None when there is no call or no agent to pair.
    """
    at = at or timezone.now()
    try:
        with transaction.atomic():
            call = _lock_next_call(queue_id)
            if call is None:
                return None
            status = _lock_longest_idle_agent(queue_id)
            if status is None:
                return None
            # Conditional flips: if anything moved since we read it, nothing happens.
            if not AgentStatus.objects.filter(pk=status.pk, state=AgentState.AVAILABLE).exists():
                return None
            if not Call.objects.filter(pk=call.pk, phase=CallPhase.QUEUED).update(
                phase=CallPhase.OFFERED, updated_at=at
            ):
                return None
            idle_since = status.available_since
            queue = Queue.objects.get(pk=queue_id)
            offer = Offer.objects.create(
                call=call,
                agent_id=status.person_id,
                offered_at=at,
                expires_at=at + timedelta(seconds=queue.reservation_timeout_seconds),
                agent_idle_since=idle_since,
            )
            agent_transition(status=status, to_state=AgentState.RESERVED, at=at)
            _event(call, "offered", at, actor=status.person, offer=offer.pk)
            return offer
    except IntegrityError:
        # The backstop constraints fired: another router got there first. Nothing changed.
        logger.info("acd: lost a race on queue %s, retrying later", queue_id)
        return None


def acd_route(*, queue_id: int | None = None, at: datetime | None = None) -> list[Offer]:
    """Pair waiting calls with agents until one side runs out."""
    queue_ids = [queue_id] if queue_id else list(Queue.objects.values_list("id", flat=True))
    offers: list[Offer] = []
    for qid in queue_ids:
        while True:
            offer = acd_offer_next(queue_id=qid, at=at)
            if offer is None:
                break
            offers.append(offer)
    return offers


# --- Deadlines and healing (swept periodically) -------------------------------------------


def offers_expire_due(*, at: datetime | None = None) -> int:
    """Offers not answered in time: the agent becomes NOT_RESPONDING (no more offers until
    they act) and the call goes back to the queue keeping its original wait time."""
    at = at or timezone.now()
    count = 0
    for offer_id in Offer.objects.filter(status=OfferStatus.PENDING, expires_at__lt=at).values_list(
        "id", flat=True
    ):
        with transaction.atomic():
            offer = (
                Offer.objects.select_for_update()
                .filter(pk=offer_id, status=OfferStatus.PENDING)
                .first()
            )
            if offer is None:
                continue
            offer.status = OfferStatus.EXPIRED
            offer.decided_at = at
            offer.save(update_fields=["status", "decided_at"])
            Call.objects.filter(pk=offer.call_id, phase=CallPhase.OFFERED).update(
                phase=CallPhase.QUEUED, updated_at=at
            )
            status = agent_status_lock(person_id=offer.agent_id)
            if status.state == AgentState.RESERVED:
                agent_transition(status=status, to_state=AgentState.NOT_RESPONDING, at=at)
            _event(offer.call, "offer_expired", at, actor=offer.agent)
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
    on_call = AgentStatus.objects.filter(state=AgentState.ON_CALL).exclude(
        person__handled_calls__phase=CallPhase.CONNECTED
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
                agent_transition(status=status, to_state=AgentState.AVAILABLE, at=at)
                healed += 1
            elif (
                status.state == AgentState.ON_CALL
                and not Call.objects.filter(agent_id=person_id, phase=CallPhase.CONNECTED).exists()
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
        "wrapups_ended": calls.wrapups_expire_due(at=at),
        "healed": agents_heal_stuck(at=at),
    }
    result["offered"] = len(acd_route(at=at))
    return result
