"""The agent's own day on the desktop: calls handled against the daily call target, AHT and
mean wrap-up time (DOMAIN.md formulas)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from agents.models import Person
from agents.targets.selectors import daily_call_target_for
from kpi.selectors import NOTHING_HANDLED, handled_today


@dataclass
class TodayFigures:
    handled: int
    target: int | None
    aht_seconds: float | None
    acw_seconds: float | None


def today_figures_for(person: Person, *, now: datetime | None = None) -> TodayFigures:
    """The agent's own day: calls handled vs the daily call target (the one resolved for
    their team: team, department or center), AHT and mean wrap-up time (DOMAIN.md formulas;
    handle time counts on the day its wrap-up ended)."""
    figures = handled_today([person.pk], now=now).get(person.pk, NOTHING_HANDLED)
    day = timezone.localdate(now) if now else None
    target = daily_call_target_for(person, on=day)
    return TodayFigures(
        handled=figures.handled,
        target=target,
        aht_seconds=figures.aht,
        acw_seconds=figures.acw_average,
    )
