"""The embedded SQLite backend queues writers on a file lock (callcenter/db/sqlite3).

These tests open their own SQLite file through the backend, whatever database the suite
runs on, so they run in CI (PostgreSQL) too."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from django.db.utils import ConnectionHandler

WAIT = 0.3  # long enough for a blocked writer to show it is blocked


@pytest.fixture
def handler(tmp_path, django_db_blocker):
    config = {
        "ENGINE": "callcenter.db.sqlite3",
        "NAME": str(tmp_path / "lock.sqlite3"),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
    }
    handler = ConnectionHandler({"default": config, "w": config})
    with django_db_blocker.unblock():
        db = handler["w"]
        with db.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("CREATE TABLE t (n INTEGER)")
        yield handler
        handler.close_all()


def lock_is_free(db) -> bool:
    """Whether another process could take the writers' file lock now."""
    fd = os.open(f"{db.settings_dict['NAME']}-writelock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def test_a_transaction_holds_the_file_lock_until_it_ends(handler):
    db = handler["w"]
    for commit in (True, False):
        assert lock_is_free(db)
        begin(db)
        assert not lock_is_free(db)
        end(db, commit=commit)
    assert lock_is_free(db)


def test_an_autocommit_write_holds_the_lock_for_its_statement_only(handler, monkeypatch):
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper

    db = handler["w"]
    seen = []
    plain_execute = SQLiteCursorWrapper.execute

    def spy(self, query, params=None):
        seen.append((query.split()[0], lock_is_free(db)))
        return plain_execute(self, query, params)

    monkeypatch.setattr(SQLiteCursorWrapper, "execute", spy)
    with db.cursor() as cursor:
        cursor.execute("UPDATE t SET n = 1")
        cursor.execute("SELECT count(*) FROM t")
    assert seen == [("UPDATE", False), ("SELECT", True)]
    assert lock_is_free(db)


def begin(db):
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def end(db, *, commit=True):
    db.commit() if commit else db.rollback()
    db.set_autocommit(True)


def in_thread(handler, work) -> tuple[threading.Thread, threading.Event]:
    """Run work(db) on a connection of its own in another thread; the event says it ran."""
    done = threading.Event()

    def run():
        db = handler["w"]  # ConnectionHandler is per thread: a second connection
        try:
            work(db)
            done.set()
        finally:
            db.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done


def second_transaction(db):
    begin(db)
    with db.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (2)")
    end(db)


def autocommit_write(db):
    with db.cursor() as cursor:
        cursor.execute("UPDATE t SET n = n + 10")


@pytest.mark.parametrize("second", [second_transaction, autocommit_write])
@pytest.mark.parametrize("commit", [True, False])
def test_a_writer_waits_for_the_transaction_holding_the_lock_then_goes_on(handler, second, commit):
    db = handler["w"]
    begin(db)
    with db.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    thread, done = in_thread(handler, second)
    assert not done.wait(WAIT), "the second writer did not wait for the first"
    end(db, commit=commit)
    assert done.wait(5), "the second writer was not woken when the first ended"
    thread.join()
    with db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone()[0] == (1 if second is second_transaction else 0) + commit


def test_reads_do_not_wait_for_a_writer(handler):
    db = handler["w"]
    begin(db)

    def read(other):
        with other.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM t")

    thread, done = in_thread(handler, read)
    assert done.wait(5)
    thread.join()
    end(db)


def test_closing_a_connection_mid_transaction_lets_the_lock_go(handler):
    db = handler["w"]
    begin(db)
    db.close()
    assert lock_is_free(db)
    thread, done = in_thread(handler, second_transaction)
    assert done.wait(5)
    thread.join()


def test_a_failed_begin_lets_the_lock_go(handler, monkeypatch):
    from django.db.backends.sqlite3.base import DatabaseWrapper as Plain

    db = handler["w"]
    db.ensure_connection()

    def refuse(self):
        raise RuntimeError("BEGIN refused")

    monkeypatch.setattr(Plain, "_start_transaction_under_autocommit", refuse)
    with pytest.raises(RuntimeError):
        begin(db)
    monkeypatch.undo()
    assert lock_is_free(db)
    db.set_autocommit(True)
    thread, done = in_thread(handler, second_transaction)
    assert done.wait(5)
    thread.join()


def test_a_forked_child_never_unlocks_its_parents_lock(handler):
    db = handler["w"]
    begin(db)
    pid = os.fork()
    if pid == 0:  # the child: closing its inherited connection must leave the lock alone
        try:
            db._write_lock_held = True
            db._write_lock_release()
            os._exit(0 if not lock_is_free(db) else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert not lock_is_free(db)
    end(db)
    assert lock_is_free(db)


def test_a_writer_gives_up_after_the_timeout_like_sqlite(tmp_path, django_db_blocker):
    from django.db import OperationalError

    config = {
        "ENGINE": "callcenter.db.sqlite3",
        "NAME": str(tmp_path / "t.sqlite3"),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 0.3},
    }
    handler = ConnectionHandler({"default": config, "w": config})
    with django_db_blocker.unblock():
        db = handler["w"]
        with db.cursor() as cursor:
            cursor.execute("CREATE TABLE t (n INTEGER)")
        begin(db)
        failures = []

        def blocked(other):
            try:
                begin(other)
            except OperationalError as error:
                failures.append(str(error))

        thread, done = in_thread(handler, blocked)
        assert done.wait(5)
        thread.join()
        end(db)
        handler.close_all()
    assert failures == ["database is locked"]


def test_turning_autocommit_back_on_lets_the_lock_go(handler):
    """transaction.set_autocommit(False), a write, set_autocommit(True): sqlite3 commits
    implicitly, without Django's commit; the lock must not stay behind."""
    db = handler["w"]
    db.set_autocommit(False)
    with db.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (7)")
    assert not lock_is_free(db)
    db.set_autocommit(True)
    assert lock_is_free(db)


# --- insert_together's direct path (callcenter.precompiled._sqlite_together) ---------------


@pytest.fixture
def two_tables(handler, django_db_blocker):
    """A parent and a child table on the test's own SQLite file, like a call and its
    event: a unique key on each, the child pointing at the parent."""
    db = handler["w"]
    with django_db_blocker.unblock():
        with db.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, sid TEXT UNIQUE)"
            )
            cursor.execute(
                "CREATE TABLE child (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "parent_id INTEGER NOT NULL REFERENCES parent (id), key TEXT UNIQUE, "
                "note TEXT)"
            )
        yield db


def _statements(sid: str, key: str):
    from callcenter.precompiled import _Statement

    parent = _Statement(
        'INSERT INTO "parent" ("sid") VALUES (%s) RETURNING "parent"."id"', [sid], (0,), [], []
    )
    child = _Statement(
        # (a literal % is written %% in Django's SQL, as in the ORM's)
        'INSERT INTO "child" ("parent_id", "key", "note") VALUES (%s, %s, \'100%% kept\') '
        'RETURNING "child"."id"',
        [None, key],
        (0, 1),
        [],
        [],
    )
    return parent, child


def _rows(db) -> list:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT parent.sid, child.key, child.note FROM child JOIN parent "
            "ON parent.id = child.parent_id ORDER BY child.id"
        )
        return cursor.fetchall()


def test_the_direct_path_writes_both_rows_linked_and_lets_the_lock_go(two_tables):
    from callcenter.precompiled import _sqlite_direct, _sqlite_together

    db = two_tables
    assert _sqlite_direct(db)
    parent_pk, child_pk = _sqlite_together(db, *_statements("CA1", "CA1:in"), 0)
    assert (parent_pk, child_pk) == (1, 1)
    assert _rows(db) == [("CA1", "CA1:in", "100% kept")]
    assert lock_is_free(db) and not db.connection.in_transaction


@pytest.mark.parametrize("refused", ["parent", "child"])
def test_the_direct_path_writes_neither_row_when_one_is_refused(two_tables, refused):
    from django.db import IntegrityError

    from callcenter.precompiled import _sqlite_together

    db = two_tables
    _sqlite_together(db, *_statements("CA1", "CA1:in"), 0)
    again = _statements("CA1", "CA2:in") if refused == "parent" else _statements("CA2", "CA1:in")
    with pytest.raises(IntegrityError):  # Django's, as the ORM raises it
        _sqlite_together(db, *again, 0)
    assert _rows(db) == [("CA1", "CA1:in", "100% kept")]
    with db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM parent")
        assert cursor.fetchone() == (1,)
    assert lock_is_free(db) and not db.connection.in_transaction
    _sqlite_together(db, *_statements("CA3", "CA3:in"), 0)  # the connection goes on
    assert len(_rows(db)) == 2


def test_the_direct_path_is_left_to_django_when_anyone_watches_or_a_transaction_is_open(
    two_tables,
):
    from callcenter.precompiled import _sqlite_direct

    db = two_tables
    begin(db)
    assert not _sqlite_direct(db)  # a savepoint inside the caller's transaction
    end(db, commit=False)
    db.force_debug_cursor = True  # DEBUG's query log, assertNumQueries
    assert not _sqlite_direct(db)
    db.force_debug_cursor = False
    with db.execute_wrapper(lambda execute, sql, params, many, context: None):
        assert not _sqlite_direct(db)
    assert _sqlite_direct(db)


def test_a_rollback_that_fails_closes_the_connection_and_keeps_the_first_error(two_tables):
    """No transaction may outlive the write lock: a connection that cannot roll back is
    closed (SQLite then drops the transaction), as Django's atomic() does."""
    from django.db import IntegrityError

    from callcenter.precompiled import _sqlite_together

    db = two_tables
    _sqlite_together(db, *_statements("CA1", "CA1:in"), 0)
    real = db.connection

    class NoRollback:
        in_transaction = property(lambda self: real.in_transaction)

        def execute(self, sql, *args):
            if sql == "ROLLBACK":
                raise real.OperationalError("disk I/O error")
            return real.execute(sql, *args)

        def close(self):
            real.close()

    db.connection = NoRollback()
    with pytest.raises(IntegrityError):  # the refused insert's error, not the rollback's
        _sqlite_together(db, *_statements("CA2", "CA1:in"), 0)
    assert db.connection is None and lock_is_free(db)
    assert not _open(real)  # closed, its transaction dropped with it
    assert _rows(db) == [("CA1", "CA1:in", "100% kept")]  # reconnected: CA2 never landed
    with db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM parent")
        assert cursor.fetchone() == (1,)


def _open(raw) -> bool:
    try:
        raw.execute("SELECT 1")
    except Exception:
        return False
    return True
