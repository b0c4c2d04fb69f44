"""Celery entry points for tickets: thin, they call a service."""

from celery import shared_task

from tickets.services.followups import followups_remind
from tickets.services.sla import sla_sweep


@shared_task(ignore_result=True)
def tickets_sweep() -> None:
    """Every minute: SLA clocks (warnings before and at breach) and follow-up reminders."""
    sla_sweep()
    followups_remind()
