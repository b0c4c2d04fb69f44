"""Recompute the SLA clock of resolved and closed tickets (e.g. after the rule changed that
a ticket resolved after its due time stays breached); the periodic sweep only looks at
running clocks. Idempotent: recomputing changes nothing the second time."""

from django.core.management.base import BaseCommand
from django.db import transaction

from tickets.models import Ticket, TicketStatus
from tickets.services.sla import sla_refresh
from tickets.sla import calendar_for_center


class Command(BaseCommand):
    help = "Recompute the SLA state of resolved and closed tickets."

    def handle(self, *args, **options):
        calendars: dict[int, object] = {}
        changed = 0
        tickets = Ticket.objects.filter(
            status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED]
        ).select_related("department")
        for ticket in tickets.iterator():
            center_id = ticket.department.center_id
            if center_id not in calendars:
                calendars[center_id] = calendar_for_center(center_id)
            before = ticket.sla_state
            with transaction.atomic():
                sla_refresh(ticket=ticket, calendar=calendars[center_id])
            changed += ticket.sla_state != before
        self.stdout.write(f"{changed} ticket(s) changed SLA state")
