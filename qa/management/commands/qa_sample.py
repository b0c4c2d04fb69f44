from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from agents.models import Department, Person
from qa.models import AssignMode
from qa.services.sampling import TARGETED_RULES, sample_run_execute, sample_run_start


class Command(BaseCommand):
    help = "Take a month's QA sample (N random calls per agent, plus targeted rules); re-runnable."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--user", required=True, help="who runs it (username)")
        parser.add_argument("--department", help="department name (default: the whole center)")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--rule", action="append", default=[], choices=[str(r) for r in TARGETED_RULES]
        )
        parser.add_argument(
            "--assign", default=AssignMode.TEAM_LEAD, choices=[str(m) for m in AssignMode]
        )

    def handle(self, *args, **opts):
        try:
            month = datetime.strptime(opts["month"], "%Y-%m").date()  # noqa: DTZ007
        except ValueError as exc:
            raise CommandError("--month must be YYYY-MM") from exc
        actor = Person.objects.filter(username=opts["user"]).first()
        if actor is None:
            raise CommandError(f"no user {opts['user']!r}")
        department = None
        if opts["department"]:
            department = Department.objects.filter(name=opts["department"]).first()
            if department is None:
                raise CommandError(f"no department {opts['department']!r}")
        try:
            run = sample_run_start(
                actor=actor,
                month=month,
                department=department,
                seed=opts["seed"],
                rules=opts["rule"],
                assign_mode=opts["assign"],
                dispatch=False,
            )
        except PermissionDenied as exc:
            raise CommandError(f"{actor} may not run QA sampling") from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc

        def progress(done: int, total: int) -> None:
            width = 30
            filled = int(width * done / total) if total else width
            self.stdout.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} agents", ending=""
            )
            self.stdout.flush()

        run = sample_run_execute(run_id=run.pk, progress=progress)
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"{run.month:%Y-%m}: {run.created} evaluations created (seed {run.seed})"
            )
        )
        if run.error:
            self.stdout.write(self.style.WARNING(run.error))
