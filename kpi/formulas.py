"""KPI formulas exactly as DOMAIN.md defines them. Nothing measured → None, never 0."""

from __future__ import annotations


def aht(*, talk: float, hold: float, acw: float, handled: int) -> float | None:
    """Average handle time = Σ(talk + hold + after-call work) / handled inbound calls."""
    if handled <= 0:
        return None
    return (talk + hold + acw) / handled


def asa(*, wait_answered: float, answered: int) -> float | None:
    """Average speed of answer = Σ queue wait of answered calls / answered calls."""
    if answered <= 0:
        return None
    return wait_answered / answered


def abandon_rate(*, abandoned: int, short_abandoned: int, offered: int) -> float | None:
    """Abandoned / offered, short abandons removed from both."""
    denominator = offered - short_abandoned
    if denominator <= 0:
        return None
    return (abandoned - short_abandoned) / denominator


def service_level(
    *, answered_within: int, answered: int, abandoned: int, short_abandoned: int
) -> float | None:
    """Default variant: answered within T / (answered + abandoned − short abandons)."""
    denominator = answered + abandoned - short_abandoned
    if denominator <= 0:
        return None
    return answered_within / denominator
