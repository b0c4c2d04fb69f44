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
