"""Celery entry points for data protection: thin, they call a service."""

import logging

from celery import shared_task

from privacy.services.retention import retention_purge as purge

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def retention_purge() -> None:
    """Once a day (CELERY_BEAT_SCHEDULE): recordings, call notes and text-message bodies
    past their retention period. Counts only in the log, never content."""
    result = purge()
    logger.info("retention purge: removed %s; not removed %s", result.counts, result.failed)
