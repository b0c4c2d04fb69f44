"""Erase one customer's personal data on request (privacy.services.erasure)."""

from django.core.management.base import BaseCommand, CommandError

from agents.models import Person
from privacy.services.erasure import customer_erase
from tickets.models import Customer


class Command(BaseCommand):
    help = (
        "Erase a customer's personal data (name, numbers, e-mail, notes, messages, "
        "recordings); calls and tickets stay as anonymous rows. Audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("customer_id", help="the customer's id (123 or C-000123)")
        parser.add_argument("--by", required=True, help="username of who asked for it (audit)")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, **options):
        raw = options["customer_id"].strip().upper().removeprefix("C-")
        if not (raw.isascii() and raw.isdigit()):
            raise CommandError("a customer id is a number, e.g. 123 or C-000123")
        actor = Person.objects.filter(username=options["by"]).first()
        if actor is None:
            raise CommandError(f"no user {options['by']!r}")
        customer_id = int(raw)
        if not Customer.objects.filter(pk=customer_id).exists():
            raise CommandError(f"no customer {customer_id}")
        if (
            not options["yes"]
            and input(
                f"Erase the personal data of customer C-{customer_id:06d}? This cannot be undone. "
                "Type 'yes' to go on: "
            )
            != "yes"
        ):
            raise CommandError("erasure cancelled")
        erasure = customer_erase(customer_id=customer_id, actor=actor)
        self.stdout.write(f"customer C-{customer_id:06d} erased (audit #{erasure.pk})")
        for kind, count in erasure.removed.items():
            self.stdout.write(f"  {kind}: {count}")
