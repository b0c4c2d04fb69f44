from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kpi.services.fill import kpi_backfill


class Command(BaseCommand):
    help = "Rebuild the KPI 15-minute and daily rollups for a date range (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="the last N days up to now")
        parser.add_argument("--start", help="YYYY-MM-DD (center time zone)")
        parser.add_argument("--end", help="YYYY-MM-DD, exclusive")

    def handle(self, *args, **opts):
        tz = timezone.get_current_timezone()
        now = timezone.now()
        try:
            if opts["days"] is not None:
                end = now
                start = now - timedelta(days=opts["days"])
            elif opts["start"]:
                start = datetime.strptime(opts["start"], "%Y-%m-%d").replace(tzinfo=tz)
                end = (
                    datetime.strptime(opts["end"], "%Y-%m-%d").replace(tzinfo=tz)
                    if opts["end"]
                    else now
                )
            else:
                raise CommandError("give --days N or --start YYYY-MM-DD [--end YYYY-MM-DD]")
        except ValueError as exc:
            raise CommandError(f"bad date: {exc}") from exc
        if end <= start:
            raise CommandError("--end must be after --start")

        def progress(done: int, total: int) -> None:
            width = 30
            filled = int(width * done / total)
            self.stdout.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} days", ending=""
            )
            self.stdout.flush()

        written = kpi_backfill(start=start, end=end, progress=progress)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"{written} rollup rows written"))
