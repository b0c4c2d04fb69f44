"""Today's figures per agent straight from the calls (the desktop and the team board)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Sum

from callcenter.clock import day_bounds
from kpi import formulas
from telephony.models import Call, CallDirection, CallPhase


@dataclass(frozen=True)
class HandledToday:
    """An agent's live figures for today, straight from the calls (the desktop and the team
    board; the dashboards read rollups): handle time counts on the day its wrap-up ended."""

    handled: int
    talk: float
    hold: float
    acw: float

    @property
    def aht(self) -> float | None:
        return formulas.aht(talk=self.talk, hold=self.hold, acw=self.acw, handled=self.handled)

    @property
    def acw_average(self) -> float | None:
        return self.acw / self.handled if self.handled else None


def handled_today(agent_ids: list[int], *, now: datetime | None = None) -> dict[int, HandledToday]:
    """Today's handled inbound calls per agent, in one query; agents with none are absent."""
    start, end = day_bounds(now)
    rows = (
        Call.objects.filter(
            agent__in=agent_ids,
            phase=CallPhase.COMPLETED,
            direction=CallDirection.INBOUND,
            wrapup_ended_at__gte=start,
            wrapup_ended_at__lt=end,
        )
        .values("agent_id")
        .annotate(
            n=Count("id"),
            talk=Sum("talk_seconds"),
            hold=Sum("hold_seconds"),
            acw=Sum("acw_seconds"),
        )
        .order_by()
    )
    return {
        r["agent_id"]: HandledToday(r["n"], r["talk"] or 0, r["hold"] or 0, r["acw"] or 0)
        for r in rows
    }


NOTHING_HANDLED = HandledToday(0, 0.0, 0.0, 0.0)
