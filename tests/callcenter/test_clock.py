"""The center's calendar (callcenter/clock.py): days, intervals and months in the center's
time zone (Asia/Seoul, UTC+9 all year), bounds half-open, durations as m:ss."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from callcenter.clock import (
    day_bounds,
    format_mss,
    interval_start,
    month_bounds,
    month_start,
    months,
    next_month_start,
)

KST = ZoneInfo("Asia/Seoul")


def test_a_day_runs_from_midnight_to_the_next_midnight_in_the_center():
    start, end = day_bounds(date(2026, 11, 22))
    assert start == datetime(2026, 11, 22, tzinfo=KST)
    assert end == datetime(2026, 11, 23, tzinfo=KST)
    assert start.utcoffset() == timedelta(hours=9)


def test_a_moment_belongs_to_the_centers_day_not_the_utc_one():
    # 16:30 UTC on the 22nd is 01:30 on the 23rd in Seoul.
    start, end = day_bounds(datetime(2026, 11, 22, 16, 30, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 11, 23, tzinfo=KST), datetime(2026, 11, 24, tzinfo=KST))


def test_no_day_means_today():
    start, end = day_bounds()
    assert start.date() == timezone.localdate()
    assert start <= timezone.now() < end


def test_every_day_of_the_year_is_24_hours_long_in_kst():
    # Seoul keeps no daylight saving: the March and November change-over weekends of
    # zones that do are ordinary days here.
    day = date(2026, 1, 1)
    while day.year == 2026:
        start, end = day_bounds(day)
        assert end - start == timedelta(hours=24), day
        day += timedelta(days=1)


def test_an_interval_starts_on_the_quarter_hour_of_the_centers_clock():
    assert interval_start(datetime(2026, 11, 22, 10, 29, 59, tzinfo=KST), 15) == datetime(
        2026, 11, 22, 10, 15, tzinfo=KST
    )
    assert interval_start(datetime(2026, 11, 22, 10, 30, tzinfo=KST), 15) == datetime(
        2026, 11, 22, 10, 30, tzinfo=KST
    )
    # A UTC moment lands in the center's interval (01:44 UTC is 10:44 KST).
    started = interval_start(datetime(2026, 11, 22, 1, 44, 10, tzinfo=UTC), 30)
    assert started == datetime(2026, 11, 22, 10, 30, tzinfo=KST)
    assert started.tzinfo == timezone.get_current_timezone()


def test_an_interval_must_divide_the_hour():
    with pytest.raises(ValueError, match="divide the hour"):
        interval_start(datetime(2026, 11, 22, 10, 0, tzinfo=KST), 45)
    with pytest.raises(ValueError, match="divide the hour"):
        interval_start(datetime(2026, 11, 22, 10, 0, tzinfo=KST), 0)


def test_a_month_starts_on_its_first_day():
    assert month_start(date(2026, 2, 28)) == date(2026, 2, 1)
    assert month_start(date(2026, 2, 1)) == date(2026, 2, 1)
    assert month_start() == timezone.localdate().replace(day=1)


def test_a_months_exclusive_end_is_the_next_months_first_day_across_december():
    assert next_month_start(date(2026, 11, 1)) == date(2026, 12, 1)
    assert next_month_start(date(2026, 12, 1)) == date(2027, 1, 1)
    assert next_month_start(date(2026, 12, 31)) == date(2027, 1, 1)
    assert next_month_start(date(2028, 2, 29)) == date(2028, 3, 1)


def test_month_bounds_are_midnights_in_the_center_across_the_year_end():
    start, end = month_bounds(date(2026, 12, 15))
    assert start == datetime(2026, 12, 1, tzinfo=KST)
    assert end == datetime(2027, 1, 1, tzinfo=KST)
    assert end - start == timedelta(days=31)


def test_months_lists_every_month_from_start_to_end_both_included():
    assert months(date(2026, 11, 1), date(2027, 2, 1)) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert months(date(2026, 11, 20), date(2026, 11, 30)) == [date(2026, 11, 1)]
    assert months(date(2027, 1, 1), date(2026, 12, 1)) == []


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0:00"), (5, "0:05"), (59.6, "1:00"), (422, "7:02"), (3600, "60:00"), (4505, "75:05")],
)
def test_a_duration_reads_as_minutes_and_seconds(seconds, shown):
    assert format_mss(seconds) == shown
