"""Which call rows count as offered / answered / abandoned contacts (shared by the KPI
rollups and the live tallies)."""

import pytest

from kpi.formulas import contact_outcome


def outcome(**kw):
    args = {
        "direction": "inbound",
        "segment": 0,
        "phase": "completed",
        "answered": True,
        "queue_exit": "",
        "wait": 10,
        "service_level_seconds": 20,
        "short_abandon_seconds": 5,
    }
    args.update(kw)
    return contact_outcome(**args)


def test_an_answered_inbound_call_within_the_threshold_counts_as_answered_within():
    result = outcome(wait=20)  # "within T" includes T
    assert (result.offered, result.answered, result.answered_within) == (True, True, True)


def test_a_transfers_later_segment_is_not_a_second_contact():
    assert not outcome(segment=1).offered


def test_outbound_and_failed_calls_are_not_offered():
    assert not outcome(direction="outbound").offered
    assert not outcome(phase="failed").offered


def test_a_callback_that_never_reached_the_customer_is_offered_but_not_answered():
    result = outcome(queue_exit="callback_unreached")
    assert result.offered and not result.answered and not result.abandoned


@pytest.mark.parametrize(("wait", "short"), [(4.9, True), (5, False)])
def test_abandons_shorter_than_the_threshold_are_short(wait, short):
    result = outcome(phase="abandoned", answered=False, wait=wait)
    assert result.abandoned and result.short_abandoned is short


def test_a_voicemail_is_neither_answered_nor_abandoned():
    result = outcome(phase="voicemail", answered=False)
    assert result.offered and not result.answered and not result.abandoned
