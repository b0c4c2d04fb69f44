"""Queries compiled once (callcenter/precompiled.py) answer exactly what the ORM answers."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from callcenter import precompiled
from callcenter.precompiled import (
    Precompiled,
    PrecompiledBulkInsert,
    PrecompiledInsert,
    PrecompiledUpdate,
    UpdateIn,
)
from telephony.models import Call, CallEvent, CallPhase
from telephony.selectors import queue_is_full
from tickets.models import Customer, Ticket
from tickets.selectors import caller_match, customer_for_phone

pytestmark = pytest.mark.django_db


def test_precompiled_reads_bind_new_arguments_each_time(org):
    by_phone = Precompiled(
        lambda phone: Customer.objects.filter(phone=phone).values_list("name"), str
    )
    Customer.objects.create(phone="+821011112222", name="갑")
    Customer.objects.create(phone="+821033334444", name="을")
    assert by_phone.rows("+821011112222") == [("갑",)]
    assert by_phone.rows("+821033334444") == [("을",)]
    assert by_phone.first("+821099999999") is None
    with pytest.raises(TypeError):
        by_phone.rows()


def test_an_argument_the_orm_transforms_is_refused():
    contains = Precompiled(lambda name: Customer.objects.filter(name__contains=name), str)
    with pytest.raises(ValueError, match="unchanged"):
        contains.rows("x")  # the ORM sends "%x%"


@pytest.mark.parametrize("vip", [False, True])
@pytest.mark.parametrize("ticket_status", [None, "open", "resolved"])
def test_caller_match_agrees_with_customer_for_phone(org, vip, ticket_status):
    customer = Customer.objects.create(phone="+821055556666", name="병", is_vip=vip)
    Customer.objects.create(phone="+821055556666", name="later duplicate")
    if ticket_status:
        Ticket.objects.create(
            customer=customer,
            department=org.general,
            subject="s",
            status=ticket_status,
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )
    orm = customer_for_phone("+821055556666", with_open_ticket_flag=True)
    match = caller_match("+821055556666")
    assert (match.customer_id, match.is_vip, match.has_open_ticket) == (
        orm.pk,
        orm.is_vip,
        orm.has_open_ticket,
    )
    assert caller_match("+821000000000") is None


def test_the_full_check_counts_callers_on_the_line_only(org):
    queue = org.q_general
    queue.max_size = 2
    queue.save()
    now = timezone.now()

    def call(sid, phase, **extra):
        return Call.objects.create(
            sid=sid, queue=queue, department=org.general, phase=phase, enqueued_at=now, **extra
        )

    call("CA" + "1" * 32, CallPhase.QUEUED)
    call("CA" + "2" * 32, CallPhase.QUEUED, callback_requested_at=now)  # holds no line
    call("CA" + "3" * 32, CallPhase.COMPLETED)
    assert not queue_is_full(queue)
    call("CA" + "4" * 32, CallPhase.OFFERED)
    assert queue_is_full(queue)
    queue.max_size = 0  # unlimited
    assert not queue_is_full(queue)


@pytest.mark.parametrize("max_size", [1, 3, 0])
def test_the_full_check_and_the_caller_match_in_one_statement_agree_with_each_alone(
    org, max_size, django_assert_num_queries
):
    from telephony.selectors import queue_full_and_caller

    queue = org.q_general
    queue.max_size = max_size
    queue.save()
    vip = Customer.objects.create(phone="+821066660000", name="김", is_vip=True)
    now = timezone.now()
    Ticket.objects.create(
        customer=vip, subject="open", department=org.general, created_at=now, updated_at=now
    )
    Call.objects.create(
        sid="CA" + "5" * 32, queue=queue, department=org.general, enqueued_at=timezone.now()
    )
    queue_full_and_caller(queue, "+821000000001")  # PostgreSQL: prepared on first use
    for phone in ("+821066660000", "+821099990000"):
        with django_assert_num_queries(1):
            together = queue_full_and_caller(queue, phone)
        assert together == (queue_is_full(queue), caller_match(phone)), phone
    assert together[1] is None
    vip_match = queue_full_and_caller(queue, "+821066660000")[1]
    assert vip_match.is_vip and vip_match.has_open_ticket


def test_precompiled_insert_writes_the_row_the_orm_would(org):
    insert = PrecompiledInsert(Call)
    at = timezone.now()
    values = {
        "from_number": "+821012345678",
        "queue": org.q_general,
        "department": org.general,
        "enqueued_at": at,
        "priority": 3,
    }
    fast = insert.create(sid="CA" + "a" * 32, **values)
    slow = Call.objects.create(sid="CA" + "b" * 32, **values)
    assert fast.pk and not fast._state.adding
    skip = {"id", "sid", "updated_at"}

    def row(pk):
        return {k: v for k, v in Call.objects.filter(pk=pk).values().get().items() if k not in skip}

    assert row(fast.pk) == row(slow.pk)
    assert Call.objects.get(pk=fast.pk).updated_at is not None  # auto_now ran
    event = PrecompiledInsert(CallEvent).create(call=fast, kind="x", at=at, data={"a": [1, "가"]})
    assert CallEvent.objects.get(pk=event.pk).data == {"a": [1, "가"]}


def test_precompiled_insert_builds_the_instance_the_model_would(org):
    at = timezone.now()
    values = {"sid": "CAx", "queue": org.q_general, "department_id": org.general.pk}
    values |= {"enqueued_at": at, "customer_id": None, "priority": 2}
    fast, slow = PrecompiledInsert(Call)._instance(values), Call(**values)
    assert {k: v for k, v in vars(fast).items() if k != "_state"} == {
        k: v for k, v in vars(slow).items() if k != "_state"
    }
    assert fast.queue is org.q_general and fast._state.adding
    events = PrecompiledInsert(CallEvent)
    one, two = (events._instance({"kind": "x", "at": at}) for _ in range(2))
    assert one.data == {} and one.data is not two.data  # a callable default, called each time
    with pytest.raises(TypeError, match="unexpected"):
        events._instance({"kind": "x", "not_a_field": 1})


def test_precompiled_insert_uses_the_orm_while_signals_listen(org):
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.pk, created))

    post_save.connect(receiver, sender=CallEvent)
    try:
        call = Call.objects.create(
            sid="CA" + "c" * 32,
            queue=org.q_general,
            department=org.general,
            enqueued_at=timezone.now(),
        )
        event = PrecompiledInsert(CallEvent).create(call=call, kind="x", at=timezone.now())
    finally:
        post_save.disconnect(receiver, sender=CallEvent)
    assert seen == [(event.pk, True)]


@pytest.mark.parametrize("signals", [False, True])
def test_a_prepared_event_inserts_after_its_call_and_takes_its_id(org, signals):
    """prepare() does the Python work first; an event prepared for a call not yet inserted
    gets the call's id when it is inserted after it (the fast path and the ORM fallback)."""
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append(sender)

    if signals:
        post_save.connect(receiver, sender=Call)
        post_save.connect(receiver, sender=CallEvent)
    try:
        at = timezone.now()
        call_row = PrecompiledInsert(Call).prepare(
            sid="CA" + "d" * 32, queue=org.q_general, department=org.general, enqueued_at=at
        )
        event_row = PrecompiledInsert(CallEvent).prepare(call=call_row.obj, kind="x", at=at)
        assert call_row.obj.pk is None and not Call.objects.filter(sid="CA" + "d" * 32).exists()
        with transaction.atomic():
            call = call_row()
            event = event_row()
    finally:
        post_save.disconnect(receiver, sender=Call)
        post_save.disconnect(receiver, sender=CallEvent)
    assert call is call_row.obj and call.pk
    assert CallEvent.objects.get(pk=event.pk).call_id == call.pk
    assert seen == ([Call, CallEvent] if signals else [])


def test_caller_match_finds_further_numbers_and_skips_merged_duplicates(org):
    from tickets.models import CustomerPhone

    kept = Customer.objects.create(phone="+821077770000", name="정", is_vip=True)
    CustomerPhone.objects.create(customer=kept, number="+821077771111")
    merged = Customer.objects.create(phone="+821077772222", name="dup", merged_into=kept)
    CustomerPhone.objects.create(customer=kept, number="+821077772222")
    for phone in ("+821077770000", "+821077771111", "+821077772222"):
        orm = customer_for_phone(phone, with_open_ticket_flag=True)
        match = caller_match(phone)
        assert orm == kept and match.customer_id == kept.pk and match.is_vip, phone
    assert merged.pk != kept.pk


@pytest.mark.django_db(transaction=True)
def test_the_sweep_checkpoints_the_sqlite_wal():
    from django.db import connection, transaction

    from callcenter.sqlite import wal_checkpoint

    result = wal_checkpoint()
    if connection.vendor == "sqlite":
        assert result is not None and len(result) == 3
    else:
        assert result is None
    with transaction.atomic():
        assert wal_checkpoint() is None  # SQLite cannot inside a transaction


# --- PostgreSQL: statements prepared on the server -----------------------------------------


def _server_statements() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def _waiting_in(queue_id: int) -> Precompiled:
    return Precompiled(
        lambda qid: Call.objects.filter(
            queue_id=qid, phase__in=[CallPhase.QUEUED, CallPhase.OFFERED]
        ).values_list("sid", "agent_call_sid"),  # a selection no other statement makes
        int,
    )


@pytest.mark.postgres
def test_postgres_prepares_once_with_constants_written_in(org):
    waiting = _waiting_in(org.q_general.pk)
    for i in range(3):
        Call.objects.create(
            sid=f"CAprep{i}",
            from_number="+821011112222",
            to_number="+8225550103",
            queue=org.q_general if i < 2 else org.q_signup,
            department=org.general if i < 2 else org.signup,
            phase=CallPhase.QUEUED,
            enqueued_at=timezone.now(),
        )
    assert sorted(waiting.rows(org.q_general.pk)) == [("CAprep0", ""), ("CAprep1", "")]
    assert waiting.rows(org.q_signup.pk) == [("CAprep2", "")]
    mine = {
        n: s
        for n, s in _server_statements().items()
        if '"agent_call_sid"' in s and "'offered'" in s
    }
    assert len(mine) == 1, _server_statements()  # prepared once, executed twice
    [statement] = mine.values()
    # The phases are constants written into the statement (so the plan knows them); only
    # the queue is a parameter.
    assert "$1" in statement and "$2" not in statement and "'offered'" in statement


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_prepared_statement_survives_rollback_and_reconnect(org):
    from django.db import connection

    waiting = _waiting_in(org.q_general.pk)
    with transaction.atomic():
        assert waiting.rows(org.q_general.pk) == []
        transaction.set_rollback(True)
    assert waiting.rows(org.q_general.pk) == []  # PREPARE is not undone by a rollback
    connection.close()  # a new session has no statements: prepared again, not assumed
    assert waiting.rows(org.q_general.pk) == []
    assert any("'queued'" in s for s in _server_statements().values())


@pytest.mark.postgres
def test_postgres_statement_it_cannot_prepare_runs_as_text(org, caplog):
    from django.db.models.expressions import RawSQL

    unknown_type = Precompiled(  # "$1 IS NULL": the server cannot tell $1's type
        lambda x: Customer.objects.filter(
            pk__in=RawSQL('SELECT "id" FROM "tickets_customer" WHERE %s IS NULL', (x,))
        ).values_list("name"),
        str,
    )
    Customer.objects.create(phone="+821011112222", name="갑")
    with transaction.atomic():
        assert unknown_type.rows("x") == []
        # the refused PREPARE was in a savepoint: this transaction goes on
        assert Customer.objects.filter(name="갑").exists()
    assert "not preparable" in caplog.text
    caplog.clear()
    assert unknown_type.rows("y") == []
    assert "not preparable" not in caplog.text  # not tried again


@pytest.mark.postgres
def test_postgres_percent_signs_and_constants_reach_the_server_intact(org):
    from django.db import connection

    from callcenter.precompiled import _pg_forms

    with connection.cursor() as cursor:
        prepare, run, _name = _pg_forms(
            cursor, "SELECT '100%%' || %s || %s", ["it's", "varies"], (1,)
        )
        assert prepare.endswith("AS SELECT '100%' || 'it''s' || $1")
        assert run.endswith("(%s)")
        assert _pg_forms(cursor, "SELECT %s", [], ()) is None  # placeholders ≠ parameters


@pytest.mark.postgres
def test_postgres_prepared_statements_can_be_turned_off(org, settings):
    settings.DB_PREPARED_STATEMENTS = False
    Precompiled(
        lambda qid: Call.objects.filter(queue_id=qid, phase="wrapup").values_list("sid"), int
    ).rows(org.q_general.pk)
    assert not any("'wrapup'" in s for s in _server_statements().values())


# --- insert_together: a call and its first event ---------------------------------------------


def _call_and_event(org, sid: str):
    from callcenter.precompiled import insert_together

    call = PrecompiledInsert(Call).prepare(
        sid=sid,
        from_number="+821012345678",
        to_number="+8225550103",
        department_id=org.general.pk,
        queue=org.q_general,
        enqueued_at=timezone.now(),
    )
    event = PrecompiledInsert(CallEvent).prepare(
        call=call.obj, kind="enqueued", at=timezone.now(), dedupe_key=f"{sid}:in", data={}
    )
    return insert_together(call, event, "call")


def test_insert_together_writes_both_rows_linked(org):
    call, event = _call_and_event(org, "CA" + "7" * 32)
    assert call.pk and event.pk and event.call_id == call.pk
    assert event.call is call  # still cached: no query to reach it
    assert not call._state.adding and not event._state.adding
    stored = CallEvent.objects.select_related("call").get(pk=event.pk)
    assert (stored.call.sid, stored.call.queue_id, stored.kind) == (
        "CA" + "7" * 32,
        org.q_general.pk,
        "enqueued",
    )


def test_insert_together_writes_neither_when_the_parent_is_refused(org):
    from django.db import IntegrityError

    _call_and_event(org, "CA" + "8" * 32)
    with transaction.atomic():  # the caller's transaction goes on after the refusal
        with pytest.raises(IntegrityError):
            _call_and_event(org, "CA" + "8" * 32)  # the same CallSid: unique
        assert CallEvent.objects.count() == 1
    assert Call.objects.filter(sid="CA" + "8" * 32).count() == 1


def test_insert_together_with_signal_receivers_saves_through_the_orm(org):
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((sender.__name__, created))

    post_save.connect(receiver, sender=CallEvent)
    try:
        call, event = _call_and_event(org, "CA" + "9" * 32)
    finally:
        post_save.disconnect(receiver, sender=CallEvent)
    assert seen == [("CallEvent", True)] and event.call_id == call.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_insert_together_is_one_statement_and_no_transaction(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _call_and_event(org, "CA" + "6" * 31 + "0")  # the first use prepares the statement
    with CaptureQueriesContext(connection) as queries:
        call, event = _call_and_event(org, "CA" + "6" * 31 + "1")
    assert len(queries) == 1 and queries[0]["sql"].startswith("EXECUTE ")
    assert CallEvent.objects.get(pk=event.pk).call_id == call.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_statement_deallocated_behind_our_back_is_prepared_again(org):
    from django.db import DatabaseError, connection

    waiting = _waiting_in(org.q_general.pk)
    assert waiting.rows(org.q_general.pk) == []
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler's DISCARD ALL would
    assert waiting.rows(org.q_general.pk) == []  # outside a transaction: prepared and run
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError), transaction.atomic():
        waiting.rows(org.q_general.pk)  # inside one, the transaction cannot go on
    with transaction.atomic():
        assert waiting.rows(org.q_general.pk) == []  # the next one prepares afresh


# --- Batch writes: UPDATE … WHERE id IN (…) and multi-row INSERT, compiled once ---------------


def _calls(org, n: int, **extra) -> list[Call]:
    return [
        Call.objects.create(
            sid=f"CAbatch{i}-{uuid.uuid4().hex[:8]}",
            from_number="+821011112222",
            to_number="+8225550103",
            queue=org.q_general,
            department=org.general,
            phase=CallPhase.QUEUED,
            enqueued_at=timezone.now(),
            **extra,
        )
        for i in range(n)
    ]


def test_precompiled_update_binds_datetimes_in_the_filter_and_the_values(org):
    calls = _calls(org, 3)
    earlier = timezone.now() - timedelta(minutes=5)
    Call.objects.filter(pk=calls[0].pk).update(enqueued_at=earlier)
    stamp = PrecompiledUpdate(
        lambda before, at: (Call.objects.filter(enqueued_at__lt=before), {"answered_at": at}),
        datetime,
        datetime,
    )
    at = timezone.now().replace(microsecond=123456)
    assert stamp.run(earlier + timedelta(seconds=1), at) == 1
    assert Call.objects.get(pk=calls[0].pk).answered_at == at
    assert not Call.objects.filter(pk__in=[c.pk for c in calls[1:]], answered_at__isnull=False)
    with pytest.raises(TypeError, match="run"):
        stamp.rows(at, at)


def test_update_in_changes_exactly_the_rows_the_orm_would(org):
    calls = _calls(org, 5)
    Call.objects.filter(pk=calls[1].pk).update(phase=CallPhase.ABANDONED)
    ids = [c.pk for c in calls[:3]]
    offer = UpdateIn(lambda: Call.objects.filter(phase=CallPhase.QUEUED), "pk")
    at = timezone.now()
    assert offer.run(ids, phase=CallPhase.OFFERED, updated_at=at, agent_id=None) == 2
    phases = dict(Call.objects.values_list("pk", "phase"))
    assert [phases[c.pk] for c in calls] == ["offered", "abandoned", "offered", "queued", "queued"]
    assert Call.objects.get(pk=calls[0].pk).updated_at == at
    # Another size and another set of values compile their own statement.
    assert offer.run([calls[3].pk], phase=CallPhase.OFFERED, priority=7) == 1
    assert Call.objects.get(pk=calls[3].pk).priority == 7
    assert offer.run([]) == 0
    with pytest.raises(TypeError, match="ORM"):
        offer.run(ids, queue_wait_seconds=1.5)


def _event_rows(pks) -> list[dict]:
    return list(
        CallEvent.objects.filter(pk__in=pks)
        .order_by("pk")
        .values("call_id", "kind", "at", "actor_id", "data", "dedupe_key")
    )


@pytest.mark.parametrize("n", [1, 2, 7])
def test_bulk_insert_writes_the_rows_bulk_create_would_in_order(org, n):
    calls = _calls(org, n)
    at = timezone.now()
    rows = [
        (c.pk, f"kind{i}", org.agent1.pk if i % 2 else None, {"i": i, "가": [1, "나"]}, at)
        for i, c in enumerate(calls)
    ]
    insert = PrecompiledBulkInsert(CallEvent, ["call", "kind", "actor", "data", "at"])
    ids = insert.insert(rows)
    assert len(ids) == n and len(set(ids)) == n
    made = CallEvent.objects.bulk_create(
        CallEvent(call_id=c, kind=k, actor_id=a, data=d, at=t) for c, k, a, d, t in rows
    )
    assert _event_rows(ids) == _event_rows([e.pk for e in made])
    # Each id is its own row's.
    for pk, row in zip(ids, rows, strict=True):
        assert CallEvent.objects.get(pk=pk).kind == row[1]
    assert insert.insert([]) == []
    with pytest.raises(TypeError, match="values"):
        insert.insert([(calls[0].pk, "short")])


def test_bulk_insert_refuses_a_field_set_on_save():
    with pytest.raises(ValueError, match="auto_now"):
        PrecompiledBulkInsert(Call, ["sid"])  # updated_at is auto_now


def test_bulk_insert_rolls_back_with_its_transaction(org):
    [call] = _calls(org, 1)
    insert = PrecompiledBulkInsert(CallEvent, ["call", "kind", "at"])
    with pytest.raises(RuntimeError), transaction.atomic():
        insert.insert([(call.pk, "a", timezone.now()), (call.pk, "b", timezone.now())])
        raise RuntimeError
    assert not CallEvent.objects.filter(call=call).exists()


def test_precompiled_insert_prepares_each_moment_as_the_orm_would(org):
    """The last datetime prepared is reused only for the very same object."""
    [call] = _calls(org, 1)
    insert = PrecompiledInsert(CallEvent)
    first = timezone.now().replace(microsecond=111111)
    second = first + timedelta(seconds=1)
    equal_but_other = first.replace(tzinfo=first.tzinfo)  # a new object, the same moment
    ids = [
        insert.create(call=call, kind=f"k{i}", at=at).pk
        for i, at in enumerate([first, first, second, equal_but_other, first])
    ]
    stored = dict(CallEvent.objects.filter(pk__in=ids).values_list("pk", "at"))
    assert [stored[pk] for pk in ids] == [first, first, second, first, first]


def test_statements_alike_but_for_a_constant_stay_apart(org):
    """The same SQL with another constant written in (PostgreSQL prepares it with the
    constant inside) is another statement, not the first one's."""
    queued, offered = _calls(org, 2)
    Call.objects.filter(pk=offered.pk).update(phase=CallPhase.OFFERED)
    by_phase = {
        phase: UpdateIn(lambda phase=phase: Call.objects.filter(phase=phase), "pk")
        for phase in (CallPhase.QUEUED, CallPhase.OFFERED)
    }
    assert by_phase[CallPhase.QUEUED].run([queued.pk, offered.pk], priority=4) == 1
    assert by_phase[CallPhase.OFFERED].run([queued.pk, offered.pk], priority=5) == 1
    assert dict(Call.objects.values_list("pk", "priority")) == {queued.pk: 4, offered.pk: 5}
    reads = {
        phase: Precompiled(
            lambda pk, phase=phase: Call.objects.filter(pk=pk, phase=phase).values_list("pk"), int
        )
        for phase in (CallPhase.QUEUED, CallPhase.OFFERED)
    }
    assert reads[CallPhase.QUEUED].rows(queued.pk) == [(queued.pk,)]
    assert reads[CallPhase.OFFERED].rows(offered.pk) == [(offered.pk,)]


def test_a_naive_datetime_argument_is_taken_as_the_orm_takes_it(org):
    first, second = _calls(org, 2)
    naive = datetime(2026, 5, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        UpdateIn(Call.objects.all, "pk").run([first.pk], answered_at=naive)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        Call.objects.filter(pk=second.pk).update(answered_at=naive)
    stored = dict(Call.objects.values_list("pk", "answered_at"))
    assert stored[first.pk] == stored[second.pk] == timezone.make_aware(naive)


def test_many_rows_go_in_several_statements_or_through_the_orm(org, monkeypatch):
    monkeypatch.setattr(precompiled, "COMPILED_UP_TO", 3)
    calls = _calls(org, 7)
    at = timezone.now()
    insert = PrecompiledBulkInsert(CallEvent, ["call", "kind", "at"])
    ids = insert.insert([(c.pk, f"k{i}", at) for i, c in enumerate(calls)])
    assert [CallEvent.objects.get(pk=pk).kind for pk in ids] == [f"k{i}" for i in range(7)]
    assert set(insert._statements) <= {1, 2, 3}
    update = UpdateIn(Call.objects.all, "pk")
    assert update.run([c.pk for c in calls], priority=9) == 7
    assert not update._compiled  # through the ORM
    assert set(Call.objects.values_list("priority", flat=True)) == {9}


def test_bulk_insert_instances_are_what_bulk_create_answers(org):
    calls = _calls(org, 2)
    at = timezone.now()
    insert = PrecompiledBulkInsert(CallEvent, ["call", "kind", "at"])
    rows = [(c.pk, "k", at) for c in calls]
    made = insert.instances(insert.insert(rows), rows)
    for obj in made:
        stored = CallEvent.objects.get(pk=obj.pk)
        assert not obj._state.adding and obj._state.db == "default"
        assert (obj.call_id, obj.kind, obj.at, obj.data, obj.dedupe_key) == (
            stored.call_id,
            stored.kind,
            stored.at,
            stored.data,
            stored.dedupe_key,
        )
    made[0].data["x"] = 1
    assert made[1].data == {}  # each its own default
