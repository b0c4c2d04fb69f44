"""Restore a backup written by db_backup."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from privacy.services.backup import BackupError, db_restore, postgres_database_create
from privacy.services.erasure import erasures_reapply, erasures_snapshot


class Command(BaseCommand):
    help = (
        "Restore a db_backup file into the database (its tables are replaced: stop web, "
        "worker and beat first), or with --target into another database to try it out."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the backup file")
        parser.add_argument(
            "--target",
            help="PostgreSQL: another database on the same server; SQLite: another file",
        )
        parser.add_argument(
            "--create", action="store_true", help="PostgreSQL: create the --target database"
        )
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args, **options):
        target = options["target"]
        if options["create"] and not target:
            raise CommandError("--create needs --target")
        if not target and not options["yes"]:
            answer = input("This replaces the tables of the live database. Type 'yes' to go on: ")
            if answer != "yes":
                raise CommandError("restore cancelled")
        # Customers erased since the backup was taken must not come back with it.
        erased = [] if target else erasures_snapshot()
        try:
            if options["create"]:
                postgres_database_create(target, alias=options["database"])
            name = db_restore(path=options["path"], alias=options["database"], target=target)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored {options['path']} into {name}")
        for customer_id in erasures_reapply(erased):
            self.stdout.write(
                f"customer C-{customer_id:06d} erased again (erased after the backup)"
            )
