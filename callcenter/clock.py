"""The center's calendar, once for every app: where a day, a reporting interval and a month
begin and end in the center's time zone (settings.TIME_ZONE, Asia/Seoul, which has no
daylight saving, so every day is 24 hours long), and a duration as people read it.

Bounds are half-open, as the queries use them: a day runs from its 00:00 up to, not
including, the next day's 00:00; a month from its first day up to the next month's first
day (`next_month_start`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def day_bounds(day: datetime | date | None = None) -> tuple[datetime, datetime]:
    """[00:00 of the day, 00:00 of the next day) in the center's time zone. A moment stands
    for the center's day it falls on; no day means today."""
    if day is None or isinstance(day, datetime):
        day = timezone.localtime(day or timezone.now()).date()
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def interval_start(moment: datetime, minutes: int) -> datetime:
    """The start of the `minutes`-long interval of the center's clock that `moment` falls in
    (10:29:59 → 10:15 with 15-minute intervals). `minutes` divides the hour."""
    if minutes <= 0 or 60 % minutes:
        raise ValueError(f"an interval of {minutes} minutes does not divide the hour")
    local = moment.astimezone(timezone.get_current_timezone())
    return local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)


def month_start(day: date | None = None) -> date:
    """The first day of the month `day` is in (this month in the center's time zone)."""
    return (day or timezone.localdate()).replace(day=1)


def next_month_start(month: date) -> date:
    """The first day of the month after `month`'s: the month's exclusive end."""
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first day 00:00, next month's first day 00:00) in the center's time zone."""
    return day_bounds(month_start(month))[0], day_bounds(next_month_start(month))[0]


def months(start: date, end: date) -> list[date]:
    """The first days of the months from `start`'s to `end`'s, both included."""
    found, month = [], month_start(start)
    while month <= end:
        found.append(month)
        month = next_month_start(month)
    return found


def format_mss(seconds: float) -> str:
    """Seconds as m:ss, rounded to the second; minutes keep counting past the hour (75:00),
    as a spreadsheet's [mm]:ss does."""
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"
