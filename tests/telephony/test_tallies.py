"""Live tallies: counts after real calls through the services, rebuilt from the database
after a flush, and the same numbers for any order or repetition of callbacks."""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from agents.models import AgentState, NotReadyReason
from agents.services import agent_set_state
from callcenter.dispatch import suppress_dispatch
from kpi import formulas
from kpi.selectors import day_bounds
from telephony import services, tallies
from telephony.models import Call
from telephony.simulator import new_call_sid
from telephony.tallies import CallRecord, MemoryStore, TallyScope
from tests.conftest import GENERAL_NUMBER, make_available

STORES = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


def _flush_redis() -> None:
    client, _, _ = tallies._redis()
    keys = list(client.scan_iter(match="tallies:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=STORES)
def store(request, settings):
    if request.param == "memory":
        settings.REDIS_URL = ""
        tallies._memory = MemoryStore()
    else:
        settings.REDIS_URL = django_settings.REDIS_URL
        _flush_redis()
    yield request.param
    if request.param == "redis":
        _flush_redis()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run service calls as if each committed: on_commit hooks (the tallies) run; nothing
    is sent to a worker or a provider."""

    @contextmanager
    def block():
        with suppress_dispatch(), django_capture_on_commit_callbacks(execute=True):
            yield

    return block


def receive(at, frm="+821011112222"):
    return services.call_receive(
        sid=new_call_sid(), from_number=frm, to_number=GENERAL_NUMBER, at=at
    )


def snapshot(org, kind="queue"):
    scope = TallyScope("queue", org.q_general.pk) if kind == "queue" else None
    return tallies.tallies_snapshot(scope or TallyScope("center", org.center.pk))


def fresh_figures(scopes):
    """What a rebuild from the database says, with nothing kept from before."""
    saved_url, saved_mem = django_settings.REDIS_URL, tallies._memory
    django_settings.REDIS_URL, tallies._memory = "", MemoryStore()
    try:
        return [t.figures() for t in tallies.tallies_snapshots(scopes)]
    finally:
        django_settings.REDIS_URL, tallies._memory = saved_url, saved_mem


def base_time():
    start, _ = day_bounds()
    return max(timezone.now() - timedelta(minutes=5), start + timedelta(seconds=1))


def run_a_morning(org, committed):
    """Five callers into 일반: answered within T, answered late, a short abandon, a long
    abandon, one still waiting; agents in every state the desktop can reach."""
    t0 = base_time()
    with committed():
        tallies.tallies_version()  # a reader built the store before the events
        make_available(org.agent1, at=t0 - timedelta(seconds=30))
        quick = receive(t0)
        late = receive(t0 + timedelta(seconds=1), frm="+821022223333")
        (o1,) = services.acd_route(queue_id=org.q_general.pk, at=t0 + timedelta(seconds=2))
        services.offer_accept(agent=org.agent1, offer_id=o1.pk, at=t0 + timedelta(seconds=10))
        make_available(org.agent2, at=t0 + timedelta(seconds=30))
        (o2,) = services.acd_route(queue_id=org.q_general.pk, at=t0 + timedelta(seconds=30))
        services.offer_accept(agent=org.agent2, offer_id=o2.pk, at=t0 + timedelta(seconds=41))
        short = receive(t0 + timedelta(seconds=50), frm="+821033334444")
        services.call_status_update(
            sid=short.sid, status="completed", sequence_number=2, at=t0 + timedelta(seconds=53)
        )
        long_ = receive(t0 + timedelta(seconds=60), frm="+821044445555")
        services.call_left_queue(sid=long_.sid, result="hangup", at=t0 + timedelta(seconds=90))
        waiting = receive(t0 + timedelta(seconds=100), frm="+821055556666")
        services.call_hangup(agent=org.agent1, call_id=o1.call_id, at=t0 + timedelta(seconds=120))
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


def test_the_store_is_updated_by_events_not_rebuilt(org, store, committed, monkeypatch):
    with committed():
        tallies.tallies_version()
    calls = []
    monkeypatch.setattr(tallies.MemoryStore, "rebuild", lambda self: calls.append(1))
    monkeypatch.setattr(tallies.RedisStore, "rebuild", lambda self: calls.append(1))
    with committed():
        make_available(org.agent1)
        receive(timezone.now())
    assert snapshot(org).waiting == 1
    assert snapshot(org).agents[AgentState.AVAILABLE] == 1
    assert calls == []


def test_rolled_back_work_never_counts(org, store, committed):
    from django.db import transaction

    with committed():
        tallies.tallies_version()
        with pytest.raises(RuntimeError), transaction.atomic():
            receive(timezone.now())
            raise RuntimeError
    assert snapshot(org).offered == 0


def test_a_rebuild_after_a_flush_gives_identical_numbers(org, store, committed):
    run_a_morning(org, committed)
    scopes = [TallyScope("center", org.center.pk), TallyScope("queue", org.q_general.pk)]
    before = [t.figures() for t in tallies.tallies_snapshots(scopes)]
    if store == "redis":
        _flush_redis()  # as after a Redis restart: today's key is missing → rebuild
    else:
        tallies._memory = MemoryStore()  # as after a process start
    after = [t.figures() for t in tallies.tallies_snapshots(scopes)]
    assert after == before
    assert after == fresh_figures(scopes)


def test_the_in_process_store_catches_up_with_other_processes(org, settings):
    """Events committed elsewhere (no hook ran here) are seen on the next read."""
    settings.REDIS_URL = ""
    tallies._memory = MemoryStore()
    assert snapshot(org).waiting == 0
    with suppress_dispatch():
        receive(timezone.now())  # inside the test transaction: the hook never runs
    assert snapshot(org).waiting == 1


def test_the_in_process_store_catches_up_call_by_call_without_a_rebuild(org, settings, monkeypatch):
    settings.REDIS_URL = ""
    tallies._memory = MemoryStore()
    assert snapshot(org).waiting == 0  # built here
    rebuilds = []
    real_rebuild = MemoryStore.rebuild
    monkeypatch.setattr(
        MemoryStore, "rebuild", lambda self: rebuilds.append(1) or real_rebuild(self)
    )
    with suppress_dispatch():  # other processes' writes: no hook runs here
        first = receive(timezone.now())
        receive(timezone.now(), frm="+821033334444")
        make_available(org.agent1)
    figures = snapshot(org)
    assert (figures.waiting, figures.offered) == (2, 2) and rebuilds == []
    with suppress_dispatch():
        services.call_status_update(sid=first.sid, status="completed", sequence_number=5)
    scopes = [TallyScope("queue", org.q_general.pk), TallyScope("center", org.center.pk)]
    caught_up = [t.figures() for t in tallies.tallies_snapshots(scopes)]
    assert rebuilds == []
    assert caught_up == fresh_figures(scopes)  # (a store of its own, built from scratch)
    rebuilds.clear()
    tallies._memory.built_at -= tallies.CHECK_EVERY_SECONDS + 1  # a minute on: read it all
    with suppress_dispatch():
        receive(timezone.now(), frm="+821099990000")
    assert snapshot(org).waiting == 2 and rebuilds == [1]
    rebuilds.clear()
    monkeypatch.setattr(tallies, "CATCH_UP_LIMIT", 1)  # too much to catch up: one rebuild
    with suppress_dispatch():
        receive(timezone.now(), frm="+821055556666")
        receive(timezone.now(), frm="+821077778888")
    assert snapshot(org).waiting == 4 and rebuilds == [1]


@pytest.mark.django_db(transaction=True)
def test_a_tally_that_cannot_be_updated_never_fails_a_saved_call(org, monkeypatch, caplog):
    """Outside a transaction the refresh runs at once, after the call is committed: an
    error there (Redis down) is logged, as the after-commit hook's would be."""

    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(tallies, "_refresh", down)
    with suppress_dispatch():
        call = receive(timezone.now())
    assert call.pk and Call.objects.filter(pk=call.pk).exists()
    assert "live tallies not updated" in caplog.text


def test_the_consistency_check_repairs_drift(org, store, committed):
    run_a_morning(org, committed)
    assert tallies.tallies_check() is True
    if store == "redis":
        client, _, _ = tallies._redis()
        day = day_bounds()[0].date().isoformat()
        client.hincrby(f"tallies:day:{day}:q:{org.q_general.pk}", "o", 7)
    else:
        tallies._memory.counts[(tallies._memory.day, org.q_general.pk)]["offered"] += 7
        tallies._memory.applied_events.clear()  # keep the freshness check from rebuilding
    assert tallies.tallies_check(settle_seconds=0.01) is False
    assert snapshot(org).offered == 5


def test_a_new_call_is_counted_from_what_was_written_without_a_read(
    org, store, committed, monkeypatch
):
    now = timezone.now()
    assert snapshot(org).waiting == 0  # the in-process store is built on its first read
    with committed():
        first = receive(now)
    event = first.events.get()
    assert tallies._written_record(first, event.pk) == tallies._call_records_of([first.pk])[0]
    reads = []
    real = tallies._call_records_of
    monkeypatch.setattr(tallies, "_call_records_of", lambda ids: reads.append(ids) or real(ids))
    with committed():
        receive(now, frm="+821033334444")
    assert reads == []  # the incoming call's record was not read back
    with committed():  # a callback booked in the same transaction as the call's INSERT
        call = services.call_receive_as_callback(
            sid=new_call_sid(),
            from_number="+821055556666",
            to_number=GENERAL_NUMBER,
            queue_id=org.q_general.pk,
            at=now,
        )
    assert reads == [[call.pk]]  # changed after the write: read back
    scopes = [TallyScope("queue", org.q_general.pk)]
    assert [t.figures() for t in tallies.tallies_snapshots(scopes)] == fresh_figures(scopes)


@pytest.mark.redis
def test_scripts_lost_by_redis_are_loaded_again(org, settings, committed):
    """After SCRIPT FLUSH (or a restart) the next update answers NOSCRIPT: the scripts
    are loaded and the whole batch sent again, and nothing is counted twice."""
    settings.REDIS_URL = django_settings.REDIS_URL
    _flush_redis()
    client, _, _ = tallies._redis()
    with committed():
        receive(timezone.now())
    assert snapshot(org).waiting == 1
    client.script_flush()
    with committed():
        receive(timezone.now(), frm="+821033334444")
        receive(timezone.now(), frm="+821055556666")
    figures = snapshot(org)
    assert (figures.waiting, figures.offered) == (3, 3)
    assert tallies.tallies_check() is True
    _flush_redis()


@pytest.mark.redis
def test_a_call_stored_before_abandons_within_t_were_counted_is_replaced_cleanly(org, settings):
    """Redis may still hold a call recorded by the previous release, without the 'aw'
    field: its replacement counts it as 0, never fails the script."""
    settings.REDIS_URL = django_settings.REDIS_URL
    _flush_redis()
    client, put_call, _ = tallies._redis()
    day, q = day_bounds()[0].date().isoformat(), org.q_general.pk
    client.hset(
        "tallies:call:999",
        mapping={"v": 1, "sig": "old", "day": day, "q": q, "o": 1, "a": 0, "w": 0}
        | {"ab": 1, "sh": 0, "ws": 0, "live": ""},
    )
    client.hset(f"tallies:day:{day}:q:{q}", mapping={"o": 1, "ab": 1})
    record = CallRecord(
        id=999, version=2, day=day, queue_id=q, offered=1, abandoned=1, abandoned_within=1
    )
    put_call(args=tallies._call_args(record))
    counts = tallies.RedisStore().read(day, [q], [])["q"][q]["counts"]
    assert (counts["offered"], counts["abandoned"], counts["abandoned_within"]) == (1, 1, 1)
    _flush_redis()


CALLBACKS = [
    ("status", "ringing", 0),
    ("status", "in-progress", 1),
    ("status", "completed", 2),
    ("queue", "hangup", None),
]


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.lists(st.sampled_from(CALLBACKS), min_size=1, max_size=8))
def test_any_order_and_repetition_of_callbacks_gives_the_same_tallies(org, store, committed, order):
    scopes = [TallyScope("center", org.center.pk), TallyScope("queue", org.q_general.pk)]
    with committed():
        tallies.tallies_version()
        call = receive(timezone.now())
        for kind, value, seq in order:
            if kind == "status":
                services.call_status_update(sid=call.sid, status=value, sequence_number=seq)
            else:
                services.call_left_queue(sid=call.sid, result=value)
    live = [t.figures() for t in tallies.tallies_snapshots(scopes)]
    assert live == fresh_figures(scopes)


@given(
    versions=st.lists(
        st.tuples(st.booleans(), st.booleans(), st.sampled_from(["waiting", "callback", ""])),
        min_size=1,
        max_size=6,
    ),
    seed=st.integers(0, 1000),
    dupes=st.integers(0, 4),
)
@hsettings(max_examples=60, deadline=None)
def test_call_records_applied_shuffled_and_duplicated_end_as_the_newest(versions, seed, dupes):
    """The replace-and-diff core: stale or repeated updates of a call never count twice."""
    recs = [
        CallRecord(
            id=1,
            version=i,
            day="2025-01-01",
            queue_id=1,
            offered=1,
            answered=int(ans),
            abandoned=int(ab and not ans),
            live=live,
            enqueued=100.0,
        )
        for i, (ans, ab, live) in enumerate(versions)
    ]
    rng = random.Random(seed)
    applied = recs + [rng.choice(recs) for _ in range(dupes)]
    rng.shuffle(applied)
    store, expected = MemoryStore(), MemoryStore()
    for rec in applied:
        store.put_call(rec)
    expected.put_call(recs[-1])
    assert store.counts == expected.counts
    assert {k: v for k, v in store.live.items() if v} == {
        k: v for k, v in expected.live.items() if v
    }


def test_records_read_by_compiled_statements_equal_the_orm_reads(org, monkeypatch):
    """A routing batch's calls and agents are read by statements compiled per number of
    ids; a larger set (a catch-up) goes through the ORM. Both give the same records."""
    make_available(org.agent1, org.agent2)
    org.agent3.is_active = False
    org.agent3.save(update_fields=["is_active"])
    with suppress_dispatch():
        calls = [
            services.call_receive(
                sid=new_call_sid(), from_number=f"+82106666{i:04d}", to_number=GENERAL_NUMBER
            )
            for i in range(3)
        ]
    people = [org.agent1.pk, org.agent2.pk, org.agent3.pk, org.lead1.pk, org.agent1.pk]
    call_ids = [c.pk for c in calls] + [calls[0].pk]
    compiled = (tallies._agent_records(people), tallies._call_records_of(call_ids))
    monkeypatch.setattr(tallies, "COMPILED_UP_TO", 0)
    through_orm = (tallies._agent_records(people), tallies._call_records_of(call_ids))

    def by_id(records):
        return sorted(records, key=lambda r: getattr(r, "person_id", None) or r.id)

    assert [by_id(r) for r in compiled] == [by_id(r) for r in through_orm]
    agents = {r.person_id: r for r in compiled[0]}
    assert agents[org.agent3.pk].state == ""  # deactivated: out of every count
    assert agents[org.agent1.pk].queue_ids == (org.q_general.pk,)
    assert len(compiled[1]) == 3 and all(r.live == "waiting" for r in compiled[1])


def test_no_ids_read_no_records(org):
    assert tallies._call_records_of([]) == []
    assert tallies._agent_records([]) == []


# --- A routing run's refreshes, made once at its end (tallies_deferred) -------------------


@pytest.fixture
def counted_refreshes(monkeypatch):
    """Every refresh the tallies make, with the calls and agents it covered."""
    seen: list[tuple[set[int], set[int]]] = []
    real = tallies._refresh

    def counting(calls, agents, written=None):
        seen.append((set(calls), set(agents)))
        return real(calls, agents, written)

    monkeypatch.setattr(tallies, "_refresh", counting)
    return seen


def _three_waiting_three_free(org):
    now = timezone.now()
    with suppress_dispatch():
        make_available(org.agent1, org.agent2, org.agent3, at=now - timedelta(seconds=30))
        calls = [receive(now, frm=f"+82101111222{i}") for i in range(3)]
    return calls


@pytest.mark.django_db(transaction=True)
def test_a_routing_run_refreshes_the_tallies_once_after_its_batches(
    org, store, monkeypatch, counted_refreshes
):
    from telephony.services import routing

    assert snapshot(org).waiting == 0  # a reader built the store
    calls = _three_waiting_three_free(org)
    counted_refreshes.clear()
    monkeypatch.setattr(routing, "ROUTE_BATCH", 1)  # three batches, three commits
    with suppress_dispatch():
        offers = services.acd_route(queue_id=org.q_general.pk)
    assert len(offers) == 3
    assert counted_refreshes == [
        ({c.pk for c in calls}, {org.agent1.pk, org.agent2.pk, org.agent3.pk})
    ]
    figures = snapshot(org)
    assert figures.waiting == 3  # ringing agents: still on the line
    assert figures.agents[AgentState.RESERVED] == 3
    scopes = [TallyScope("queue", org.q_general.pk), TallyScope("center", org.center.pk)]
    assert [t.figures() for t in tallies.tallies_snapshots(scopes)] == fresh_figures(scopes)


@pytest.mark.django_db(transaction=True)
def test_deferred_refreshes_leave_rolled_back_work_out(org, store, counted_refreshes):
    from django.db import transaction

    assert snapshot(org).offered == 0
    with suppress_dispatch(), tallies.tallies_deferred():
        kept = receive(timezone.now())
        with pytest.raises(RuntimeError), transaction.atomic():
            receive(timezone.now(), frm="+821099998888")
            raise RuntimeError
        assert counted_refreshes == []  # committed, held for the block's end
    assert counted_refreshes == [({kept.pk}, set())]
    assert snapshot(org).offered == 1


@pytest.mark.django_db(transaction=True)
def test_a_long_run_refreshes_as_it_goes_and_nested_blocks_leave_it_to_the_outer(
    org, store, counted_refreshes
):
    assert snapshot(org).waiting == 0
    with suppress_dispatch(), tallies.tallies_deferred(max_seconds=0):
        first = receive(timezone.now())  # the first commit starts the clock
        assert counted_refreshes == []
        with tallies.tallies_deferred():
            second = receive(timezone.now(), frm="+821033334444")  # waited ≥ 0 s: both
        assert counted_refreshes == [({first.pk, second.pk}, set())]
        third = receive(timezone.now(), frm="+821055556666")
        assert len(counted_refreshes) == 1
    assert counted_refreshes[1:] == [({third.pk}, set())]
    assert snapshot(org).waiting == 3


@pytest.mark.django_db(transaction=True)
def test_a_deferred_refresh_that_fails_is_logged_and_the_calls_stay(org, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(tallies, "_refresh", down)
    with suppress_dispatch(), tallies.tallies_deferred():
        call = receive(timezone.now())
    assert Call.objects.filter(pk=call.pk).exists()
    assert "live tallies not updated" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_call_written_in_a_savepoint_that_rolls_back_never_counts(org, store):
    """The transaction commits, the savepoint inside it does not: the written values of
    the savepoint's call must not be taken for a row (found by review)."""
    from django.db import transaction

    assert snapshot(org).offered == 0
    with suppress_dispatch(), transaction.atomic():
        receive(timezone.now())
        with pytest.raises(RuntimeError), transaction.atomic():
            receive(timezone.now(), frm="+821099998888")
            raise RuntimeError
    assert snapshot(org).offered == 1
    scopes = [TallyScope("queue", org.q_general.pk)]
    assert [t.figures() for t in tallies.tallies_snapshots(scopes)] == fresh_figures(scopes)


@pytest.mark.django_db(transaction=True)
def test_the_check_lets_a_refresh_on_its_way_land_before_calling_it_drift(org, store, monkeypatch):
    """A routing run holds its refreshes (tallies_deferred); a check made meanwhile sees
    the database ahead of the store. It looks again after a pause instead of rebuilding."""
    from django.db import transaction

    assert snapshot(org).waiting == 0
    rebuilds = []
    if store == "redis":  # (a store object per use)
        real = tallies.RedisStore.rebuild
        monkeypatch.setattr(
            tallies.RedisStore, "rebuild", lambda self: rebuilds.append(1) or real(self)
        )
    else:
        real = tallies._memory.rebuild
        monkeypatch.setattr(tallies._memory, "rebuild", lambda: rebuilds.append(1) or real())
    pauses = []

    def pause(seconds):  # meanwhile the run ends and its refresh lands
        pauses.append(seconds)
        transaction.get_connection()._tallies_deferral.flush()

    monkeypatch.setattr(tallies.time, "sleep", pause)
    with suppress_dispatch(), tallies.tallies_deferred():
        receive(timezone.now())  # committed; its refresh held
        assert tallies.tallies_check() is True
    assert pauses == [tallies.CHECK_SETTLE_SECONDS] and rebuilds == []
    assert snapshot(org).waiting == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_starting_after_one_killed_mid_run_repairs_the_tallies_it_left(
    org, settings, monkeypatch
):
    """kill -9 during a routing run: the batches it committed are in the database, their
    held refresh never happened. The next worker to start checks the store at once."""
    from telephony.services import routing
    from telephony.tasks import tallies_check_at_start

    settings.REDIS_URL = django_settings.REDIS_URL
    _flush_redis()
    assert snapshot(org).waiting == 0
    _three_waiting_three_free(org)
    monkeypatch.setattr(routing, "ROUTE_BATCH", 1)
    monkeypatch.setattr(tallies._Deferral, "flush", lambda self: None)  # the process died
    with suppress_dispatch():
        assert len(services.acd_route(queue_id=org.q_general.pk)) == 3
    monkeypatch.undo()
    scopes = [TallyScope("queue", org.q_general.pk), TallyScope("center", org.center.pk)]
    assert snapshot(org).agents[AgentState.RESERVED] == 0  # what the dead run left
    assert [t.figures() for t in tallies.tallies_snapshots(scopes)] != fresh_figures(scopes)

    tallies_check_at_start(sender=None)

    assert snapshot(org).agents[AgentState.RESERVED] == 3
    assert [t.figures() for t in tallies.tallies_snapshots(scopes)] == fresh_figures(scopes)
    _flush_redis()
