"""Celery entry points for tickets: thin, they call a service."""

from celery import shared_task

from tickets import services


@shared_task(ignore_result=True)
def tickets_sweep() -> None:
    """Every minute: SLA clocks (warnings before and at breach) and follow-up reminders."""
    services.sla_sweep()
    services.followups_remind()
