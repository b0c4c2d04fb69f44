"""SQLite (the embedded default) keeps its write-ahead log out of the hot paths.

SQLite checkpoints the WAL into the database inside whichever commit crosses
`wal_autocheckpoint` pages, and with synchronous=NORMAL a checkpoint syncs to disk: that
commit (a webhook's, or a routing batch's) pays for everyone's writes. Sangdam raises the
threshold far out of the way (settings: `wal_autocheckpoint`) and checkpoints from the
periodic sweep instead (telephony.tasks.acd_sweep, every 2 s), in PASSIVE mode, which
neither waits for nor blocks readers and writers. The raised threshold stays the safety
net when no worker runs.
"""

from __future__ import annotations

from django.db import connection


def wal_checkpoint() -> tuple[int, int, int] | None:
    """Checkpoint what no reader still needs: (busy, WAL pages, pages checkpointed), or
    None on another database or inside a transaction (where SQLite cannot)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return tuple(cursor.fetchone())
