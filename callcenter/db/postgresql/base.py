"""PostgreSQL with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django checks a kept connection before each request's first query
by sending `SELECT 1`: on the incoming-call webhook, one round trip in five. Here an idle
connection is checked by looking at its socket instead. Between queries the server sends
nothing, so a socket with something to read means the server has ended the session (a
restart, `pg_terminate_backend`, an idle timeout: its last message, then the end of the
stream) and the connection is replaced before the request uses it, as with `SELECT 1`.
What this cannot see, like `SELECT 1` would, is a server that vanished without closing
(its machine lost): the request's first query then fails, and Django drops the connection
at the end of that request.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg2 import extensions


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed:
            return False
        if conn.get_transaction_status() != extensions.TRANSACTION_STATUS_IDLE:
            return super().is_usable()  # mid-transaction: ask the server, as Django does
        poller = select.poll()  # not select(): a descriptor above 1023 is common enough
        try:
            poller.register(conn.fileno(), select.POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False
