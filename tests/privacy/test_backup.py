"""Backup and restore: PostgreSQL (pg_dump -Fc / pg_restore into a fresh database, every row of
the core tables compared) and SQLite (the online backup API, WAL included)."""

from __future__ import annotations

import sqlite3
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from agents.models import Department, Person
from kpi.models import DailyStat, IntervalStat
from privacy.models import CustomerErasure
from privacy.services.backup import (
    backups_prune,
    database_params,
    postgres_database_drop,
    sqlite_copy,
)
from privacy.services.erasure import customer_erase
from qa.models import Evaluation
from telephony.models import Call, CallEvent, SmsMessage, Survey, Voicemail
from tests.privacy.conftest import kpi_refill
from tickets.models import Customer, CustomerNote, Ticket, TicketEvent, TicketNote

CORE = [
    Person,
    Department,
    Customer,
    CustomerNote,
    Ticket,
    TicketNote,
    TicketEvent,
    Call,
    CallEvent,
    SmsMessage,
    Voicemail,
    Survey,
    Evaluation,
    IntervalStat,
    DailyStat,
]


def _pg_rows(dbname: str) -> dict[str, list[tuple]]:
    import psycopg2

    p = database_params()
    conn = psycopg2.connect(
        dbname=dbname,
        host=p.host or None,
        port=p.port or None,
        user=p.user or None,
        password=p.password or None,
    )
    try:
        with conn.cursor() as cursor:
            rows = {}
            for model in CORE:
                table = model._meta.db_table
                cursor.execute(f'SELECT * FROM "{table}" ORDER BY id')  # noqa: S608
                rows[table] = cursor.fetchall()
            return rows
    finally:
        conn.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_postgres_backup_restores_into_a_fresh_database_with_every_core_row(world, tmp_path):
    kpi_refill(world)
    live_name = connection.settings_dict["NAME"]
    live = _pg_rows(live_name)
    assert all(live[m._meta.db_table] for m in CORE)  # every core table has rows to compare
    out = StringIO()
    call_command("db_backup", "--output", str(tmp_path / "sangdam.dump"), stdout=out)
    assert (tmp_path / "sangdam.dump").stat().st_size > 0
    assert not list(tmp_path.glob("*.partial"))
    target = f"{live_name}_restore"
    postgres_database_drop(target)
    try:
        call_command(
            "db_restore", str(tmp_path / "sangdam.dump"), "--target", target, "--create", stdout=out
        )
        assert _pg_rows(target) == live
    finally:
        postgres_database_drop(target)


@pytest.mark.postgres
def test_restoring_over_the_live_database_asks_first(db, tmp_path, monkeypatch):
    (tmp_path / "x.dump").write_bytes(b"")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="cancelled"):
        call_command("db_restore", str(tmp_path / "x.dump"))
    with pytest.raises(CommandError, match="no backup"):
        call_command("db_restore", str(tmp_path / "missing.dump"), "--yes")


def test_the_sqlite_copy_holds_what_is_still_in_the_wal(tmp_path):
    live = tmp_path / "live.sqlite3"
    writer = sqlite3.connect(live)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    writer.executemany("INSERT INTO t (body) VALUES (?)", [(f"row {i}",) for i in range(500)])
    writer.commit()
    assert (tmp_path / "live.sqlite3-wal").stat().st_size > 0  # not checkpointed yet
    sqlite_copy(live, tmp_path / "backup.sqlite3")
    writer.execute("DELETE FROM t")
    writer.commit()
    sqlite_copy(tmp_path / "backup.sqlite3", live)  # the restore
    rows = writer.execute("SELECT count(*), max(body) FROM t").fetchone()
    writer.close()
    assert rows == (500, "row 99")


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_the_command_backs_up_the_database_in_use(tmp_path, settings):
    if connection.vendor != "sqlite":
        # On PostgreSQL the command is the pg_dump path, covered above.
        with pytest.raises(CommandError):
            call_command("db_restore", str(tmp_path / "x.dump"), "--create")
        return
    Customer.objects.create(phone="+821012345678", name="백업")
    settings.BACKUP_DIR = tmp_path
    out = StringIO()
    call_command("db_backup", stdout=out)
    (path,) = tmp_path.glob("sangdam-*.sqlite3")
    copy = sqlite3.connect(path)
    assert copy.execute("SELECT name FROM tickets_customer").fetchall() == [("백업",)]
    copy.close()


def test_old_backups_beyond_keep_are_deleted(tmp_path):
    names = [f"sangdam-2026120{d}T000000Z.dump" for d in range(1, 6)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "other.dump").write_bytes(b"x")
    deleted = backups_prune(keep=2, directory=tmp_path)
    assert sorted(p.name for p in deleted) == names[:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[3:], "other.dump"])


@pytest.mark.django_db(transaction=True)
def test_a_restore_over_the_live_database_erases_again_who_was_erased_after_the_backup(
    world, tmp_path, monkeypatch
):
    path = tmp_path / ("backup.dump" if connection.vendor == "postgresql" else "backup.sqlite3")
    call_command("db_backup", "--output", str(path), stdout=StringIO())
    customer_erase(customer_id=world.hong.pk, actor=world.org.director)
    Customer.objects.filter(pk=world.kim.pk).update(name="김철수 (백업 후 변경)")
    out = StringIO()
    call_command("db_restore", str(path), "--yes", stdout=out)
    assert f"customer {world.hong.number} erased again" in out.getvalue()
    hong = Customer.objects.get(pk=world.hong.pk)
    assert (hong.name, hong.phone, hong.email) == ("", "", "")
    assert CustomerErasure.objects.get().requested_by_id == world.org.director.pk
    # Everything else is as it was in the backup.
    assert Customer.objects.get(pk=world.kim.pk).name == "김철수"
