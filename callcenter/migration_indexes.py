"""Index changes on big, busy tables, for migrations written out by hand.

Django's AlterField rebuilds a SQLite table for a changed `db_index`, and its AddIndex /
RemoveIndex hold a lock on a PostgreSQL table while the index builds. A migration that
changes indexes on calls, events or agent-state intervals runs these instead, from a
RunPython inside SeparateDatabaseAndState (its state operations are what makemigrations
wrote) with `atomic = False`: on PostgreSQL CREATE/DROP INDEX CONCURRENTLY, on SQLite
plain statements, both idempotent (IF [NOT] EXISTS) so an interrupted run can be resumed.
"""

from __future__ import annotations


def drop_index(schema_editor, name: str) -> None:
    quoted = schema_editor.quote_name(name)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quoted}")
    else:
        schema_editor.execute(f"DROP INDEX IF EXISTS {quoted}")


def create_index(schema_editor, model, index) -> None:
    kwargs = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    sql = str(index.create_sql(model, schema_editor, **kwargs))
    if sql.startswith("CREATE INDEX CONCURRENTLY "):
        sql = sql.replace(
            "CREATE INDEX CONCURRENTLY ", "CREATE INDEX CONCURRENTLY IF NOT EXISTS ", 1
        )
    else:
        sql = sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
    schema_editor.execute(sql)


def single_column_indexes(schema_editor, model, column: str) -> list[str]:
    """The names of the plain (not unique, not primary key) indexes on `column` alone:
    the ones Django made for a foreign key or `db_index`, whatever their generated name."""
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(
            cursor, model._meta.db_table
        )
    return [
        name
        for name, info in constraints.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and info["columns"] == [column]
    ]
