"""callcenter/db/postgresql: a kept connection's health is read off its socket, without a
round trip, and a connection the server has ended is replaced before a request uses it."""

from __future__ import annotations

import time

import psycopg2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _check() -> None:
    """What Django runs before a request's first query with CONN_HEALTH_CHECKS."""
    connection.health_check_enabled = True
    connection.health_check_done = False
    connection.close_if_health_check_failed()


def test_a_live_connection_passes_without_a_query(org):
    connection.ensure_connection()
    raw = connection.connection
    with CaptureQueriesContext(connection) as queries:
        _check()
    assert connection.connection is raw and len(queries) == 0


def test_a_connection_the_server_ended_is_replaced_before_use(org):
    connection.ensure_connection()
    raw, pid = connection.connection, connection.connection.info.backend_pid
    settings = connection.settings_dict
    admin = psycopg2.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
    )
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        admin.close()
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.01)  # the server's goodbye is on its way
    _check()
    assert connection.connection is None  # closed, not handed to the request
    with connection.cursor() as cursor:  # the request's first query: a new session
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
    assert connection.connection is not raw


def test_inside_a_transaction_the_server_is_asked(org):
    from django.db import transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        with CaptureQueriesContext(connection):
            assert connection.is_usable() is True
