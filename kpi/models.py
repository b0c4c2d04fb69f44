"""Interval rollups: dashboards read these, never raw calls."""

from django.db import models


class ScopeKind(models.TextChoices):
    AGENT = "agent"
    TEAM = "team"
    DEPARTMENT = "department"
    QUEUE = "queue"
    CENTER = "center"


class IntervalStat(models.Model):
    """One 15-minute interval for one unit of the chart.

    A contact counts in the interval it was offered in (offered, answered, abandoned, wait);
    handle time counts in the interval its wrap-up ended in (DOMAIN.md)."""

    interval_start = models.DateTimeField()
    scope_kind = models.CharField(max_length=12, choices=ScopeKind.choices)
    scope_id = models.BigIntegerField()
    offered = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    answered_within_sl = models.IntegerField(default=0)
    abandoned = models.IntegerField(default=0)
    short_abandoned = models.IntegerField(default=0)
    queue_wait_answered_seconds = models.FloatField(default=0)
    handled = models.IntegerField(default=0)
    talk_seconds = models.FloatField(default=0)
    hold_seconds = models.FloatField(default=0)
    acw_seconds = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope_kind", "scope_id", "interval_start"],
                name="one_stat_per_scope_interval",
            )
        ]
        indexes = [models.Index(fields=["interval_start"])]

    def __str__(self) -> str:
        return f"{self.scope_kind}:{self.scope_id} {self.interval_start:%Y-%m-%d %H:%M}"


class FillState(models.Model):
    """How far the incremental fill has read (by Call.updated_at)."""

    name = models.CharField(max_length=40, unique=True)
    watermark = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
