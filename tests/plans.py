"""Reading query plans in tests (the *_plans tests): the same on SQLite and PostgreSQL."""

from __future__ import annotations

from django.db import connection


def explain(sql: str) -> str:
    """The plan of a statement whose parameters are written in (as captured by
    CaptureQueriesContext): SQLite's EXPLAIN QUERY PLAN details, PostgreSQL's EXPLAIN lines."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def analyze(*tables: str) -> None:
    """Planner statistics for `tables` on PostgreSQL, as autovacuum keeps them on a live
    database; SQLite is left as a fresh install runs, without ANALYZE."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
