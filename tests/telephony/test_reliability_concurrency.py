"""200 concurrent routing attempts over 10 agents: never two live calls, never two pending
offers on one agent, never one call offered twice.

PostgreSQL only (SQLite serialises writers, so there is no race to lose). The attempts come
from 20 threads released together by a barrier, 10 attempts each: `acd_offer_next`,
`acd_route` and the periodic `acd_sweep` (whose reaper races the router), each on its own
connection. The database is checked afterwards, row against row and against agent states.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from agents.models import AgentState, AgentStatus
from callcenter.dispatch import suppress_dispatch
from telephony.models import Call, CallPhase, Offer, OfferStatus
from telephony.services.calls import call_status_update, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_offer_next, acd_route, acd_sweep
from telephony.services.wrapup import wrapups_expire_due
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available
from tests.factories import PersonFactory, QueueMembershipFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20
ATTEMPTS_PER_THREAD = 10  # 200 routing attempts per round
AGENTS = 10
CALLS = 30


def run_concurrently(jobs: list[Callable[[], object]]) -> list[BaseException]:
    """Run every job in its own thread, all released at once; return what they raised
    (other than the refusals a service is meant to give)."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            with suppress_dispatch():  # no worker or provider here: the rows are the test
                barrier.wait()
                job()
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a routing attempt hung"
    return errors


def routing_attempts(queue_id: int, seed: int) -> Callable[[], None]:
    rng = random.Random(seed)

    def attempts():
        for _ in range(ATTEMPTS_PER_THREAD):
            kind = rng.choice(("offer_next", "offer_next", "route", "sweep"))
            if kind == "offer_next":
                acd_offer_next(queue_id=queue_id)
            elif kind == "route":
                acd_route(queue_id=queue_id)
            else:
                acd_sweep()

    return attempts


def assert_consistent(agents) -> None:
    """No agent holds more than one pending offer or live call, no call has two pending
    offers, and agent states and call phases say the same as the offers."""
    ids = {agent.pk for agent in agents}
    pending = Offer.objects.filter(status=OfferStatus.PENDING)
    pending_by_agent = Counter(pending.values_list("agent_id", flat=True))
    live_by_agent = Counter(
        Call.objects.filter(phase=CallPhase.CONNECTED).values_list("agent_id", flat=True)
    )
    for agent_id in ids:
        held = pending_by_agent[agent_id] + live_by_agent[agent_id]
        assert held <= 1, f"agent {agent_id} holds {held} calls"
    pending_by_call = Counter(pending.values_list("call_id", flat=True))
    assert set(pending_by_call.values()) <= {1}, "a call has two pending offers"
    offered = set(Call.objects.filter(phase=CallPhase.OFFERED).values_list("id", flat=True))
    assert offered == set(pending_by_call), "call phases and pending offers disagree"
    states = dict(AgentStatus.objects.filter(person_id__in=ids).values_list("person_id", "state"))
    assert {a for a, s in states.items() if s == AgentState.RESERVED} == set(pending_by_agent)
    assert {a for a, s in states.items() if s == AgentState.ON_CALL} == set(live_by_agent)


@pytest.fixture
def floor(org):
    """10 agents of 일반 (the persona agents stay offline) and 30 waiting callers."""
    with suppress_dispatch(), transaction.atomic():
        agents = []
        for i in range(AGENTS):
            person = PersonFactory(username=f"conc{i:02d}", team=org.team_a)
            QueueMembershipFactory(person=person, queue=org.q_general)
            agents.append(person)
        make_available(*agents)
        for i in range(CALLS):
            call_receive(
                sid=new_call_sid(), from_number=f"+8210666{i:05d}", to_number=GENERAL_NUMBER
            )
    return agents


def test_200_concurrent_routing_attempts_never_give_an_agent_two_calls(org, floor):
    queue_id = org.q_general.pk

    # Round 1: every agent is free; 200 attempts race for them.
    errors = run_concurrently([routing_attempts(queue_id, seed) for seed in range(THREADS)])
    assert errors == []
    assert Offer.objects.count() == AGENTS  # one each, none lost to a race, none doubled
    assert Offer.objects.values("call").distinct().count() == AGENTS
    assert_consistent(floor)

    # Round 2: each agent answers, twice at once (a double click), while routing keeps
    # racing; exactly one answer per offer wins and nobody gets a second call.
    offers = list(Offer.objects.filter(status=OfferStatus.PENDING).select_related("agent"))
    answered: list[int] = []

    def answer(offer):
        def job():
            try:
                offer_accept(agent=offer.agent, offer_id=offer.pk)
                answered.append(offer.pk)
            except (ValidationError, PermissionDenied):
                pass  # the other click won

        return job

    jobs = [answer(offer) for offer in offers for _ in range(2)]
    jobs += [routing_attempts(queue_id, 100 + seed) for seed in range(THREADS // 2)]
    assert run_concurrently(jobs) == []
    assert sorted(answered) == sorted(offer.pk for offer in offers)
    assert Call.objects.filter(phase=CallPhase.CONNECTED).count() == AGENTS
    assert Offer.objects.count() == AGENTS
    assert_consistent(floor)

    # Round 3: half the callers hang up; their agents' wrap-up ends; 200 attempts race for
    # the five free agents while the other five are still talking.
    with suppress_dispatch():
        for call in Call.objects.filter(phase=CallPhase.CONNECTED).order_by("id")[:5]:
            call_status_update(sid=call.sid, status="completed", sequence_number=9)
        wrapups_expire_due(at=timezone.now() + timedelta(seconds=3600))
    free = set(
        AgentStatus.objects.filter(person__in=floor, state=AgentState.AVAILABLE).values_list(
            "person_id", flat=True
        )
    )
    assert len(free) == 5
    errors = run_concurrently([routing_attempts(queue_id, 200 + seed) for seed in range(THREADS)])
    assert errors == []
    new_offers = Offer.objects.filter(status=OfferStatus.PENDING)
    assert set(new_offers.values_list("agent_id", flat=True)) == free
    assert Offer.objects.count() == AGENTS + 5
    assert Offer.objects.values("call").distinct().count() == AGENTS + 5
    assert_consistent(floor)


def test_the_database_refuses_a_second_pending_offer_for_an_agent_or_a_call(org, floor):
    """The partial unique constraints are the backstop behind the router's locks."""
    with suppress_dispatch():
        offer = acd_offer_next(queue_id=org.q_general.pk)
    assert offer is not None
    other_call = Call.objects.filter(phase=CallPhase.QUEUED).first()
    other_agent = next(a for a in floor if a.pk != offer.agent_id)
    now = timezone.now()
    for call, agent in ((other_call, offer.agent), (offer.call, other_agent)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Offer.objects.create(call=call, agent=agent, offered_at=now, expires_at=now)
