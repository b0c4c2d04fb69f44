"""Back up the database: pg_dump -Fc on PostgreSQL, the online backup API on SQLite."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from privacy.services.backup import BackupError, backups_prune, db_backup


class Command(BaseCommand):
    help = (
        "Write a backup of the database (PostgreSQL: pg_dump custom format; SQLite: a "
        "consistent copy) to --output or BACKUP_DIR/sangdam-<UTC time>.dump|.sqlite3."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", type=Path, help="file to write")
        parser.add_argument(
            "--keep",
            type=int,
            default=0,
            help="afterwards, delete all but the newest KEEP backups in BACKUP_DIR (0: keep all)",
        )
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args, **options):
        try:
            path = db_backup(path=options["output"], alias=options["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"backup written: {path} ({path.stat().st_size} bytes)")
        if options["keep"] > 0:
            for old in backups_prune(keep=options["keep"], directory=path.parent):
                self.stdout.write(f"old backup deleted: {old}")
