"""Celery entry points for tickets: thin, they call a service."""

import logging

from celery import shared_task
from django.utils import translation

from tickets import services

logger = logging.getLogger(__name__)

STATUS_SMS_RETRIES = 3


@shared_task(ignore_result=True)
def tickets_sweep() -> None:
    """Every minute: SLA clocks (warnings before and at breach) and follow-up reminders."""
    services.sla_sweep()
    services.followups_remind()


@shared_task(bind=True, ignore_result=True, max_retries=STATUS_SMS_RETRIES)
def status_check_sms(self, check_id: int, language: str | None = None) -> None:
    """The case-status page's one-time code, after the check committed. A provider error
    is retried with a fresh code (5 s, 10 s, 20 s), then logged: the customer starts again."""
    try:
        with translation.override(language):
            services.status_check_code_send(check_id=check_id)
    except Exception as exc:
        if self.request.retries < STATUS_SMS_RETRIES:
            logger.warning("status-page SMS for check %s failed, retrying: %s", check_id, exc)
            raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc
        logger.exception("status-page SMS for check %s failed; giving up", check_id)
