"""The embedded Celery broker (no REDIS_URL): kombu's SQLAlchemy transport on its own SQLite
file in var/, so a message is a row written in one transaction and can never be read
half-written (kombu's filesystem transport could: the worker read a file the web server
was still writing and died, celery/kombu#1523).

Three changes to kombu's transport, both for SQLite shared by several processes (the web
server, the worker with beat, the simulators all publish; the worker polls):
- the file runs in WAL mode with a busy timeout, so a publisher waits for the poller's
  short write lock instead of failing with "database is locked";
- creating the tables tolerates another process creating them at the same moment;
- a message handed to the worker is deleted instead of being kept as an invisible row
  (kombu keeps every delivered message forever; the poll would scan a growing table).
  Nothing is lost by it: kombu never gives an invisible row back either. An unacknowledged
  message lives in the worker's memory and is put back on a clean stop; after a crash the
  periodic sweep re-does the work from what the database rows say (callcenter/celery.py).
"""

from __future__ import annotations

import json
from queue import Empty

from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

# Options kombu reads itself; the rest go to SQLAlchemy's create_engine().
KOMBU_OPTIONS = {
    "queue_tablename",
    "message_tablename",
    "callback",
    "errback",
    "max_retries",
    "interval_start",
    "interval_step",
    "interval_max",
    "retry_errors",
    "polling_interval",
}


def _on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL with synchronous=NORMAL never corrupts the file; a power cut may lose the last
    # messages, which the periodic sweep makes good.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Channel(kombu_sqla.Channel):
    def _engine_from_config(self):
        conninfo = self.connection.client
        options = {
            key: value
            for key, value in conninfo.transport_options.items()
            if key not in KOMBU_OPTIONS
        }
        engine = create_engine(conninfo.hostname, **options)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _on_connect)
        return engine

    def _open(self):
        # kombu creates its tables with "check, then CREATE TABLE": processes that start
        # together (make run's web, worker and simulators) can both find none, and the
        # slower one died of "table kombu_queue already exists". Once more sees them.
        for attempt in range(3):
            try:
                return super()._open()
            except OperationalError as error:
                if "already exists" not in str(error) or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _get(self, queue):
        obj = self._get_or_create(queue)
        session = self.session
        if session.bind.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            message = (
                session.query(self.message_cls)
                .with_for_update()
                .filter(self.message_cls.queue_id == obj.id)
                .filter(self.message_cls.visible.is_(True))
                .order_by(self.message_cls.sent_at, self.message_cls.id)
                .first()
            )
            if message is None:
                raise Empty()
            payload = bytes_to_str(message.payload)
            session.delete(message)
            return json.loads(payload)
        finally:
            session.commit()


class Transport(kombu_sqla.Transport):
    Channel = Channel
