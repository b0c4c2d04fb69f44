"""Durations read the same everywhere: m:ss, h:mm:ss past an hour, a dash for nothing."""

from datetime import UTC, datetime, timedelta

from kpi.templatetags.kpi_format import mmss, span_mmss

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_a_short_state_shows_its_seconds_not_zero_minutes():
    assert span_mmss(T0, T0 + timedelta(seconds=44)) == "0:44"


def test_a_long_state_shows_hours():
    assert span_mmss(T0, T0 + timedelta(hours=2, minutes=3, seconds=4)) == "2:03:04"


def test_nothing_measured_is_a_dash():
    assert span_mmss(T0, None) == "–"
    assert mmss(None) == "–"
    assert mmss(422) == "7:02"
