"""Live tallies: counts after real calls through the services, counted from the database
and kept for a moment in Django's cache (kpi/tallies.py), in memory or in Redis."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import timezone

from agents.models import AgentState, NotReadyReason
from agents.services.states import agent_set_state
from callcenter.clock import day_bounds
from callcenter.dispatch import suppress_dispatch
from kpi import formulas, tallies
from kpi.tallies import TallyScope
from telephony.models import Call
from telephony.services.calls import call_hangup, call_left_queue, call_status_update, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available

STORES = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(params=STORES)
def store(request, settings):
    if request.param == "memory":
        settings.REDIS_URL = ""
    else:
        settings.REDIS_URL = django_settings.REDIS_URL
        settings.CACHES = {
            **settings.CACHES,
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": django_settings.REDIS_URL,
            },
        }
    cache.clear()
    yield request.param
    cache.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run service calls as if each committed: on_commit hooks run; nothing is sent to a
    worker or a provider."""

    @contextmanager
    def block():
        with suppress_dispatch(), django_capture_on_commit_callbacks(execute=True):
            yield

    return block


def receive(at, frm="+821011112222"):
    return call_receive(sid=new_call_sid(), from_number=frm, to_number=GENERAL_NUMBER, at=at)


def snapshot(org, kind="queue"):
    scope = TallyScope("queue", org.q_general.pk) if kind == "queue" else None
    return tallies.tallies_snapshot(scope or TallyScope("center", org.center.pk))


def base_time():
    start, _ = day_bounds()
    return max(timezone.now() - timedelta(minutes=5), start + timedelta(seconds=1))


def run_a_morning(org, committed):
    """Five callers into 일반: answered within T, answered late, a short abandon, a long
    abandon, one still waiting; agents in every state the desktop can reach."""
    t0 = base_time()
    with committed():
        tallies.tallies_version()  # a read before the events
        make_available(org.agent1, at=t0 - timedelta(seconds=30))
        quick = receive(t0)
        late = receive(t0 + timedelta(seconds=1), frm="+821022223333")
        (o1,) = acd_route(queue_id=org.q_general.pk, at=t0 + timedelta(seconds=2))
        offer_accept(agent=org.agent1, offer_id=o1.pk, at=t0 + timedelta(seconds=10))
        make_available(org.agent2, at=t0 + timedelta(seconds=30))
        (o2,) = acd_route(queue_id=org.q_general.pk, at=t0 + timedelta(seconds=30))
        offer_accept(agent=org.agent2, offer_id=o2.pk, at=t0 + timedelta(seconds=41))
        short = receive(t0 + timedelta(seconds=50), frm="+821033334444")
        call_status_update(
            sid=short.sid, status="completed", sequence_number=2, at=t0 + timedelta(seconds=53)
        )
        long_ = receive(t0 + timedelta(seconds=60), frm="+821044445555")
        call_left_queue(sid=long_.sid, result="hangup", at=t0 + timedelta(seconds=90))
        waiting = receive(t0 + timedelta(seconds=100), frm="+821055556666")
        call_hangup(agent=org.agent1, call_id=o1.call_id, at=t0 + timedelta(seconds=120))
        agent_set_state(person=org.agent3, state=AgentState.NOT_READY, reason=NotReadyReason.BREAK)
    return t0, quick, late, short, long_, waiting


def test_it_counts_offered_answered_and_abandons_with_short_ones_apart(org, store, committed):
    t0, *_, waiting = run_a_morning(org, committed)
    t = snapshot(org)
    assert (t.offered, t.answered, t.answered_within) == (5, 2, 1)
    assert (t.abandoned, t.short_abandoned) == (2, 1)
    assert t.wait_answered_seconds == pytest.approx(50)
    assert t.asa == pytest.approx(25)
    # The ratios are the KPI formulas': (answered ≤ T) / (answered + abandoned − short).
    assert t.service_level == pytest.approx(1 / 3)
    assert t.abandon_rate == formulas.abandon_rate(abandoned=2, short_abandoned=1, offered=5)
    assert t.waiting == 1
    assert t.oldest_enqueued_at == waiting.enqueued_at
    assert t.longest_wait_seconds(t0 + timedelta(seconds=130)) == pytest.approx(30)


def test_the_live_service_level_is_the_variant_the_center_chose(org, store, committed, settings):
    # The morning's abandons: the short one (3 s) within T, the long one (30 s) after it.
    run_a_morning(org, committed)
    t = snapshot(org)
    assert t.abandoned_within == 1
    assert snapshot(org, "center").abandoned_within == 1
    settings.KPI_SERVICE_LEVEL_VARIANT = "answered_and_abandoned_within"
    assert t.service_level == pytest.approx((1 + 1) / (2 + 2))
    settings.KPI_SERVICE_LEVEL_VARIANT = "abandoned_after_t"
    assert t.service_level == pytest.approx(1 / (2 + 2 - 1))
    settings.KPI_SERVICE_LEVEL_VARIANT = "answered"
    assert t.service_level == pytest.approx(1 / 2)


def test_it_counts_agents_by_state_per_queue_and_once_in_the_center(org, store, committed):
    run_a_morning(org, committed)
    queue = snapshot(org)
    assert {k: v for k, v in queue.agents.items() if v} == {
        AgentState.ON_CALL: 1,
        AgentState.WRAP_UP: 1,
        AgentState.NOT_READY: 1,
    }
    center = snapshot(org, "center")
    assert center.agents[AgentState.OFFLINE] == 1  # agent4 of 가입
    assert sum(center.agents.values()) == 4  # agents with a skill; leads, managers not
    assert center.offered == 5 and center.waiting == 1


def test_rolled_back_work_never_counts(org, store, committed):
    from django.db import transaction

    with committed():
        tallies.tallies_version()
        with pytest.raises(RuntimeError), transaction.atomic():
            receive(timezone.now())
            raise RuntimeError
    assert snapshot(org).offered == 0


def test_a_change_is_counted_by_the_next_read(org, store, committed):
    assert snapshot(org).waiting == 0  # a count kept in the cache
    with committed():
        make_available(org.agent1)
        receive(timezone.now())
    assert snapshot(org).waiting == 1
    assert snapshot(org).agents[AgentState.AVAILABLE] == 1


def test_many_reads_of_one_state_share_one_count(org, store, committed, django_assert_num_queries):
    run_a_morning(org, committed)
    scopes = [TallyScope("center", org.center.pk), TallyScope("queue", org.q_general.pk)]
    first = [t.figures() for t in tallies.tallies_snapshots(scopes)]
    with django_assert_num_queries(1):  # the change mark only
        again = [t.figures() for t in tallies.tallies_snapshots(scopes)]
    assert again == first


def test_the_count_in_the_database_agrees_with_the_rollups_rule(org, store, committed):
    """Each call's own outcome (kpi.formulas.contact_outcome, as the rollups count) summed,
    against the database's count."""
    run_a_morning(org, committed)
    expected = dict.fromkeys(tallies.COUNTERS, 0)
    for call in Call.objects.filter(queue=org.q_general).select_related("queue"):
        outcome = formulas.contact_outcome(
            direction=call.direction,
            segment=call.segment,
            phase=call.phase,
            answered=call.answered_at is not None,
            queue_exit=call.queue_exit,
            wait=call.queue_wait_seconds or 0,
            service_level_seconds=call.queue.service_level_seconds,
            short_abandon_seconds=django_settings.SHORT_ABANDON_SECONDS,
        )
        for name in expected:
            expected[name] += int(getattr(outcome, name))
    t = snapshot(org)
    assert {name: getattr(t, name) for name in tallies.COUNTERS} == expected
