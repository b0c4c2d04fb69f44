from django.conf import settings
from django.core.management.base import BaseCommand

from agents.models import Person

DEMO = [
    ("agent1", "agent · desktop"),
    ("agent2", "agent · desktop"),
    ("lead1", "team lead of agent1's team · team board"),
    ("trainer1", "training lead"),
    ("manager1", "manager of 일반 and 해지 · KPI"),
    ("director", "center director · KPI"),
    ("admin", "staff admin · /admin/"),
]


class Command(BaseCommand):
    help = "Print the demo logins."

    def handle(self, *args, **opts):
        base = settings.PUBLIC_BASE_URL
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Sangdam is starting at {base}"))
        self.stdout.write(f"Demo logins (password: {settings.DEMO_PASSWORD}):")
        existing = set(
            Person.objects.filter(username__in=[u for u, _ in DEMO]).values_list(
                "username", flat=True
            )
        )
        for username, what in DEMO:
            if username in existing:
                self.stdout.write(f"  {username:<10} {what}")
        self.stdout.write("")
