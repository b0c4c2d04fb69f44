"""Demo data: one center, three departments, six teams, ~60 people, ~500 customers and
30 days of calls replayed through the same services real calls use (demo/seed/)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from agents.models import Center, Person
from callcenter.dispatch import suppress_dispatch
from demo.seed import kpi as kpi_demo
from demo.seed import qa as qa_demo
from demo.seed import tickets as tickets_demo
from demo.seed.history import Replay
from demo.seed.org import CENTER_NAME, customers_create, ivr_ensure, org_create, reset_passwords
from telephony.models import Call
from tickets.models import Customer


class Command(BaseCommand):
    help = "Create the demo center (idempotent: an existing demo is kept; passwords are reset)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--calls-per-day", type=int, default=70)
        parser.add_argument("--customers", type=int, default=500)
        parser.add_argument("--seed", type=int, default=20261122)

    def handle(self, *args, **opts):
        rng = random.Random(opts["seed"])
        password = settings.DEMO_PASSWORD
        if Center.objects.filter(name=CENTER_NAME).exists():
            reset_passwords(password)
            ivr_ensure(Center.objects.get(name=CENTER_NAME))
            tickets_demo.seed(Center.objects.get(name=CENTER_NAME))
            qa_demo.seed(Center.objects.get(name=CENTER_NAME))
            self.stdout.write("Demo already seeded; demo passwords reset.")
            return
        with suppress_dispatch():
            with transaction.atomic():
                history_start = timezone.now() - timedelta(days=opts["days"] + 1)
                center, departments = org_create(rng, password, history_start)
                customers = customers_create(rng, opts["customers"])
                ivr_ensure(center)
                tickets_demo.seed(center)
            Replay(self.stdout).run(
                rng, departments, customers, days=opts["days"], per_day=opts["calls_per_day"]
            )
            tickets_demo.seed_work()  # once there is history to work on
        qa_demo.seed(center)
        call_command("kpi_backfill", days=opts["days"] + 1, stdout=self.stdout)
        kpi_demo.seed(days=opts["days"] + 1)  # targets, surveys, evaluations (demo/seed/kpi.py)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {Person.objects.count()} people, {Customer.objects.count()} customers, "
                f"{Call.objects.count()} calls."
            )
        )
