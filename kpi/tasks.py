from __future__ import annotations

import logging

from celery import shared_task
from kombu.exceptions import OperationalError

from callcenter.dispatch import dispatch_allowed
from kpi.services.watermarks import kpi_fill_incremental

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def kpi_fill_rollups() -> int:
    """The periodic KPI run: fill the rollups incrementally."""
    return kpi_fill_incremental()


def kpi_fill_soon() -> None:
    """Nudge the fill after a call is handled; the periodic run catches up if this is lost."""
    if not dispatch_allowed():
        return
    try:
        kpi_fill_rollups.delay()
    except OperationalError:
        logger.warning("broker unavailable; KPI fill waits for the periodic run")
