"""Run the retention purge now, or with --dry-run see what it would remove."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from privacy.services.retention import retention_plan, retention_purge


class Command(BaseCommand):
    help = (
        "Remove recordings, call notes and text-message bodies older than "
        "RETENTION_RECORDING_DAYS / RETENTION_CALL_NOTE_DAYS / RETENTION_SMS_DAYS."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be removed; change nothing"
        )

    def handle(self, *args, **options):
        result = retention_plan() if options["dry_run"] else retention_purge()
        for kind, cutoff in result.cutoffs.items():
            when = (
                f"before {timezone.localtime(cutoff):%Y-%m-%d %H:%M %Z}"
                if cutoff
                else "kept forever"
            )
            self.stdout.write(f"{kind}: {when}")
        verb = "would remove" if result.dry_run else "removed"
        for kind, count in result.counts.items():
            self.stdout.write(f"{verb} {kind}: {count}")
        for kind, count in result.failed.items():
            if count:
                self.stderr.write(f"not removed (provider refused) {kind}: {count}")
