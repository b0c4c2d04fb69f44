"""KPI formulas exactly as DOMAIN.md defines them. Nothing measured → None, never 0."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q


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


def answer_rate(*, answered: int, offered: int) -> float | None:
    """응대율 = answered / offered (every offered contact, short abandons included)."""
    return ratio(answered, offered)


# The service-level variants (DOMAIN.md). "default" is the center's standard; the setting
# KPI_SERVICE_LEVEL_VARIANT picks the one dashboards show.
SERVICE_LEVEL_VARIANTS = {
    "default": "answered≤T / (answered + abandoned − short abandons)",
    "answered": "answered≤T / answered",
    "answered_and_abandoned_within": "(answered≤T + abandoned≤T) / (answered + abandoned)",
    "all_abandons": "answered≤T / (answered + abandoned)",
    "abandoned_after_t": "answered≤T / (answered + abandoned after T)",
    # ICMI's: a caller who hangs up within the short-abandon threshold counts as met.
    "short_abandons_met": "(answered≤T + short abandons) / (answered + abandoned)",
}


def service_level_variant(
    variant: str,
    *,
    answered_within: int,
    answered: int,
    abandoned: int,
    short_abandoned: int,
    abandoned_within: int,
) -> float | None:
    """Service level by the named variant. `abandoned_within` = abandons with wait ≤ T
    (short ones included); the default variant removes short abandons, the others count
    the raw abandons exactly as their formula says."""
    if variant == "default":
        return service_level(
            answered_within=answered_within,
            answered=answered,
            abandoned=abandoned,
            short_abandoned=short_abandoned,
        )
    if variant == "answered":
        numerator, denominator = answered_within, answered
    elif variant == "answered_and_abandoned_within":
        numerator, denominator = answered_within + abandoned_within, answered + abandoned
    elif variant == "all_abandons":
        numerator, denominator = answered_within, answered + abandoned
    elif variant == "abandoned_after_t":
        numerator, denominator = answered_within, answered + abandoned - abandoned_within
    elif variant == "short_abandons_met":
        numerator, denominator = answered_within + short_abandoned, answered + abandoned
    else:
        raise ValueError(f"unknown service level variant {variant!r}")
    if denominator <= 0:
        return None
    return numerator / denominator


def ratio(numerator: float, denominator: float) -> float | None:
    """A plain share; nothing in the denominator → no value."""
    if denominator <= 0:
        return None
    return numerator / denominator


def csat(*, satisfied: int, responses: int) -> float | None:
    """CSAT = responses of 4 or 5 on a 1–5 scale / responses."""
    return ratio(satisfied, responses)


def is_satisfied(score: int) -> bool:
    return score >= 4


def fcr(*, resolved: int, eligible: int) -> float | None:
    """FCR (repeat-contact) = handled contacts with no further handled contact from the same
    customer in the same category within 7 days / handled contacts whose window has closed."""
    return ratio(resolved, eligible)


def occupancy(*, handling: float, available: float) -> float | None:
    """Handling time / (handling + available idle time)."""
    return ratio(handling, handling + available)


def utilisation(*, handling: float, logged_in: float) -> float | None:
    """Handling time / logged-in time."""
    return ratio(handling, logged_in)


def calls_per_hour(*, handled: int, logged_in_seconds: float) -> float | None:
    return ratio(handled * 3600, logged_in_seconds)


@dataclass(frozen=True)
class ContactOutcome:
    offered: bool
    answered: bool
    answered_within: bool
    abandoned: bool
    short_abandoned: bool
    abandoned_within: bool = False


NOT_COUNTED = ContactOutcome(False, False, False, False, False, False)


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
        abandoned_within=abandoned and wait <= service_level_seconds,
    )


def contact_outcome_conditions(
    *, service_level_seconds: F, short_abandon_seconds: float
) -> dict[str, Q]:
    """contact_outcome as conditions on Call rows, for counting in the database (the live
    tallies): the same rule, one condition per counter. `service_level_seconds` is the
    expression of the call's queue threshold. A call without a measured wait waited 0 s."""
    counted = Q(direction="inbound", segment=0) & ~Q(phase="failed")
    answered = Q(answered_at__isnull=False) & ~Q(queue_exit="callback_unreached")
    abandoned = counted & ~answered & Q(phase="abandoned")
    no_wait = Q(queue_wait_seconds__isnull=True)
    within = no_wait | Q(queue_wait_seconds__lte=service_level_seconds)
    return {
        "offered": counted,
        "answered": counted & answered,
        "answered_within": counted & answered & within,
        "abandoned": abandoned,
        "short_abandoned": abandoned & (no_wait | Q(queue_wait_seconds__lt=short_abandon_seconds)),
        "abandoned_within": abandoned & within,
    }
