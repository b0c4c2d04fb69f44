"""KPI's reactions to events of lower floors (wired in callcenter.events.REACTIONS)."""

from __future__ import annotations

from callcenter.events import CallHandled
from kpi.tasks import kpi_fill_soon


def fill_rollups_soon(event: CallHandled) -> None:
    """A call was handled: refill the rollups now; the periodic run catches up otherwise."""
    kpi_fill_soon()
