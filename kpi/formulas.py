"""KPI formulas exactly as DOMAIN.md defines them. Nothing measured → None, never 0."""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class ContactOutcome:
    offered: bool
    answered: bool
    answered_within: bool
    abandoned: bool
    short_abandoned: bool


NOT_COUNTED = ContactOutcome(False, False, False, False, False)


def contact_outcome(
    *,
    direction: str,
    segment: int,
    phase: str,
    answered: bool,
    queue_exit: str,
    wait: float,
    service_level_seconds: float,
    short_abandon_seconds: float,
) -> ContactOutcome:
    """How one call row counts in offered / answered / abandoned: the one rule the KPI
    rollups and the live tallies share.

    Only inbound customer contacts count: outbound calls are not offered, and a transfer's
    later segments are the same contact as its first. Failed calls do not count. A callback
    that never reached the customer is not answered, and a booked callback is no abandon
    (its row is never ABANDONED). "Within T" includes T; short abandons are shorter than
    the threshold.
    """
    if direction != "inbound" or segment != 0 or phase == "failed":
        return NOT_COUNTED
    answered = answered and queue_exit != "callback_unreached"
    abandoned = not answered and phase == "abandoned"
    return ContactOutcome(
        offered=True,
        answered=answered,
        answered_within=answered and wait <= service_level_seconds,
        abandoned=abandoned,
        short_abandoned=abandoned and wait < short_abandon_seconds,
    )
