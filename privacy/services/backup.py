"""Database backup and restore for both supported databases.

PostgreSQL: `pg_dump -Fc` (custom format: compressed, restorable table by table) and
`pg_restore`, run with the connection's own parameters (the password goes through the
environment, never the command line). The client must be at least the server's major
version. SQLite: the online backup API (a consistent copy while the server writes, WAL
included), and the same API back for a restore.

A dump is a snapshot: what was written after it started is not in it. Point-in-time recovery
needs WAL archiving on the PostgreSQL server (README "Backups, retention and erasure").
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils import timezone

PREFIX = "sangdam-"
SUFFIXES = {"postgresql": ".dump", "sqlite": ".sqlite3"}


class BackupError(Exception):
    """The backup or restore could not run (tool missing, tool failed, bad target)."""


@dataclass(frozen=True)
class DatabaseParams:
    vendor: str
    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""

    def libpq_env(self, name: str | None = None) -> dict[str, str]:
        env = dict(os.environ)
        for key, value in (
            ("PGHOST", self.host),
            ("PGPORT", self.port),
            ("PGUSER", self.user),
            ("PGPASSWORD", self.password),
            ("PGDATABASE", name or self.name),
        ):
            if value:
                env[key] = str(value)
        return env


def database_params(alias: str = "default") -> DatabaseParams:
    """The live connection's parameters (under pytest: the test database's)."""
    connection = connections[alias]
    d = connection.settings_dict
    return DatabaseParams(
        vendor=connection.vendor,
        name=str(d["NAME"]),
        host=str(d.get("HOST") or ""),
        port=str(d.get("PORT") or ""),
        user=str(d.get("USER") or ""),
        password=str(d.get("PASSWORD") or ""),
    )


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client)")
    return path


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


def default_backup_path(params: DatabaseParams) -> Path:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.BACKUP_DIR) / f"{PREFIX}{stamp}{SUFFIXES.get(params.vendor, '')}"


def db_backup(*, path: Path | None = None, alias: str = "default") -> Path:
    """Writes a backup of the database to `path` (default: BACKUP_DIR/sangdam-<UTC time>)
    and returns the path. The file appears only when complete (written beside, renamed)."""
    params = database_params(alias)
    path = Path(path) if path else default_backup_path(params)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    if params.vendor == "postgresql":
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "-f",
                str(partial),
            ],
            params.libpq_env(),
        )
    elif params.vendor == "sqlite":
        sqlite_copy(Path(params.name), partial)
    else:
        raise BackupError(f"no backup for the {params.vendor} backend")
    partial.replace(path)
    return path


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite database `source` (what its WAL holds included, while
    others write) over `target`, page by page through SQLite's online backup API."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def backups_prune(*, keep: int, directory: Path | None = None) -> list[Path]:
    """Deletes all but the newest `keep` backups in BACKUP_DIR; returns those deleted."""
    directory = Path(directory or settings.BACKUP_DIR)
    files = sorted(
        (p for p in directory.glob(f"{PREFIX}*") if p.suffix in SUFFIXES.values()),
        key=lambda p: p.name,
        reverse=True,
    )
    old = files[keep:] if keep > 0 else []
    for p in old:
        p.unlink()
    return old


def postgres_database_create(name: str, *, alias: str = "default") -> None:
    """An empty database beside the live one (a restore target for a trial restore)."""
    _admin_sql("CREATE DATABASE {}", name, alias)


def postgres_database_drop(name: str, *, alias: str = "default") -> None:
    _admin_sql("DROP DATABASE IF EXISTS {}", name, alias)


def _admin_sql(statement: str, name: str, alias: str) -> None:
    import psycopg2
    from psycopg2 import sql

    params = database_params(alias)
    if name == params.name:
        raise BackupError("that is the live database")
    conn = psycopg2.connect(
        dbname="postgres",
        host=params.host or None,
        port=params.port or None,
        user=params.user or None,
        password=params.password or None,
    )
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL(statement).format(sql.Identifier(name)))
    finally:
        conn.close()


def db_restore(*, path: Path, alias: str = "default", target: str | None = None) -> str:
    """Restores the backup at `path` into the database (or, on PostgreSQL, into the existing
    database `target` on the same server; on SQLite into the file `target`); returns the
    database restored into. The restored tables replace those there: stop web, worker and
    beat first."""
    params = database_params(alias)
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    name = target or params.name
    if params.vendor == "postgresql":
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "-d",
                name,
                str(path),
            ],
            params.libpq_env(name),
        )
    elif params.vendor == "sqlite":
        if not target:
            connections[alias].close()
        sqlite_copy(path, Path(name))
    else:
        raise BackupError(f"no restore for the {params.vendor} backend")
    return name
