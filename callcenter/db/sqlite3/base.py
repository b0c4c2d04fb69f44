"""SQLite (the embedded default) with its writers queued on an OS file lock.

SQLite lets one connection write at a time. A writer that finds the lock taken is put to
sleep by SQLite's busy handler for 1, 2, 5, 10, … ms and tries again, so under steady
load every collision costs a millisecond or more, usually far longer than the other
transaction held the lock (a webhook's insert and commit take a tenth of that). With two
web workers, two processes wrote fewer calls a second than one.

Here a transaction first takes an exclusive `flock` on a file beside the database, then
starts SQLite's transaction (BEGIN IMMEDIATE, settings), and lets the file lock go at
commit, rollback or close; a single INSERT, UPDATE or DELETE outside a transaction holds it
for that statement. A writer that finds the file lock taken looks again after 50 µs, then
100, 200 … up to 1 ms between looks: about the time a transaction here holds it, where
SQLite's own handler starts at 1 ms. It waits up to the `timeout` option, the bound SQLite's
handler keeps, then fails with "database is locked" as SQLite would, so a stuck holder
cannot hang every writer. Every process that writes (web workers, the Celery worker, the
simulator) goes through this backend, so SQLite's own lock is free whenever a writer holds
the file lock; SQLite's busy handler is left for writers from outside, such as the sqlite3
shell. A process that dies lets the lock go with its descriptor. The lock is per connection
(a thread has its own) and reopened after a fork, so a child never shares its parent's lock.
"""

from __future__ import annotations

import fcntl
import os
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


# Django rewrites every statement's %s placeholders into SQLite's ? with a regular
# expression, on every execution; the hot paths run the same few statements thousands of
# times, so the rewritten text is remembered (up to QMARK_CACHE_SIZE statements).
QMARK_CACHE_SIZE = 1024
_qmark: dict[str, str] = {}


def qmark(query: str) -> str:
    """A statement with Django's %s placeholders as SQLite takes it (?, and %% as %), as
    Django's cursor rewrites it, remembered."""
    converted = _qmark.get(query)
    if converted is None:
        if len(_qmark) >= QMARK_CACHE_SIZE:
            _qmark.clear()
        converted = _qmark[query] = base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")
    return converted


class CursorWrapper(base.SQLiteCursorWrapper):
    """A write statement in autocommit mode takes the file lock for its own duration."""

    def convert_query(self, query, *, param_names=None):
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        return qmark(query)

    def execute(self, query, params=None):
        db = self.sangdam_db
        if db.connection.in_transaction or not query.lstrip()[:7].upper().startswith(WRITES):
            return super().execute(query, params)
        db._write_lock_acquire()
        try:
            return super().execute(query, params)
        finally:
            if not db.connection.in_transaction:
                db._write_lock_release()

    def executemany(self, query, param_list):
        db = self.sangdam_db
        if db.connection.in_transaction or not query.lstrip()[:7].upper().startswith(WRITES):
            return super().executemany(query, param_list)
        db._write_lock_acquire()
        try:
            return super().executemany(query, param_list)
        finally:
            if not db.connection.in_transaction:
                db._write_lock_release()


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock_fd: int | None = None
        self._write_lock_pid: int | None = None
        self._write_lock_held = False

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=CursorWrapper)
        cursor.sangdam_db = self
        return cursor

    def _write_lock_path(self) -> str | None:
        if self.is_in_memory_db():
            return None  # one connection only: nobody to queue behind
        return f"{self.settings_dict['NAME']}-writelock"

    def _write_lock_acquire(self) -> None:
        path = self._write_lock_path()
        if path is None:
            return
        if self._write_lock_fd is not None and self._write_lock_pid != os.getpid():
            # Inherited through a fork: the parent's open file (and lock), not ours.
            os.close(self._write_lock_fd)
            self._write_lock_fd, self._write_lock_held = None, False
        if self._write_lock_held:
            return
        if self._write_lock_fd is None:
            # Read-only is enough for flock, so processes running as other users who may
            # read the file (web and worker apart) can share it; it holds no data.
            self._write_lock_fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._write_lock_pid = os.getpid()
        deadline, pause = None, 0.00005
        while True:
            try:
                fcntl.flock(self._write_lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + float(self.settings_dict["OPTIONS"].get("timeout", 5))
                elif now >= deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.001)
        self._write_lock_held = True

    def _write_lock_release(self) -> None:
        if self._write_lock_held:
            self._write_lock_held = False
            # A child forked mid-transaction shares its parent's open file: unlocking it
            # there would unlock the parent.
            if self._write_lock_pid == os.getpid():
                fcntl.flock(self._write_lock_fd, fcntl.LOCK_UN)

    def _set_autocommit(self, autocommit: bool) -> None:
        # transaction.set_autocommit(True) ends an implicit transaction (sqlite3 commits
        # when isolation_level goes back to None) without going through _commit.
        super()._set_autocommit(autocommit)
        if autocommit and not self.connection.in_transaction:
            self._write_lock_release()

    def _start_transaction_under_autocommit(self) -> None:
        self._write_lock_acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._write_lock_release()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._write_lock_release()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._write_lock_release()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._write_lock_release()
            if self._write_lock_fd is not None:
                # (in a forked child its copy: closing it leaves the parent's lock alone)
                os.close(self._write_lock_fd)
            self._write_lock_fd = None
