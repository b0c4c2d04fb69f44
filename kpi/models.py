"""Interval and daily rollups (dashboards read these, never raw calls) and the monthly
performance sheets (their targets are agents.models.Target). Post-call surveys are telephony's
(telephony.models.Survey); the rollups read them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Targets live on the org chart (agents.models.Target, read through agents.targets.selectors);
# their metric names stay importable from here for the KPI code that compares against them.
from agents.models import LOWER_IS_BETTER, TargetMetric  # noqa: F401


class ScopeKind(models.TextChoices):
    AGENT = "agent", _("Agent")
    TEAM = "team", _("Team")
    DEPARTMENT = "department", _("Department")
    QUEUE = "queue", _("Queue")
    CENTER = "center", _("Center")


class StatColumns(models.Model):
    """The summable counters every rollup row carries. Ratios are computed from sums
    (kpi/formulas.py), never stored, so any range and any unit sums correctly.

    A contact counts in the interval it was offered in (offered, answered, abandoned, wait);
    handle time, transfers, main task and FCR in the interval its wrap-up ended in; a survey
    in the interval it was answered in; agent-state time in the interval it was spent in
    (DOMAIN.md)."""

    offered = models.IntegerField(_("offered"), default=0)
    answered = models.IntegerField(_("answered"), default=0)
    answered_within_sl = models.IntegerField(_("answered within threshold"), default=0)
    abandoned = models.IntegerField(_("abandoned"), default=0)
    short_abandoned = models.IntegerField(_("short abandons"), default=0)
    # Abandoned with a wait ≤ T (short ones included): the SL variants need it.
    abandoned_within_sl = models.IntegerField(_("abandoned within threshold"), default=0)
    queue_wait_answered_seconds = models.FloatField(
        _("queue wait of answered calls (s)"), default=0
    )
    handled = models.IntegerField(_("handled"), default=0)
    talk_seconds = models.FloatField(_("talk time (s)"), default=0)
    hold_seconds = models.FloatField(_("hold time (s)"), default=0)
    acw_seconds = models.FloatField(_("after-call work (s)"), default=0)
    transferred = models.IntegerField(_("transferred"), default=0)
    escalated = models.IntegerField(_("escalated to the team lead"), default=0)
    main_task_successes = models.IntegerField(_("main task successes"), default=0)
    fcr_eligible = models.IntegerField(_("FCR contacts"), default=0)
    fcr_resolved = models.IntegerField(_("FCR resolved"), default=0)
    csat_responses = models.IntegerField(_("CSAT responses"), default=0)
    csat_satisfied = models.IntegerField(_("CSAT satisfied (4–5)"), default=0)
    csat_score_sum = models.IntegerField(_("CSAT score sum"), default=0)
    survey_resolved_answers = models.IntegerField(_("survey resolution answers"), default=0)
    survey_resolved_yes = models.IntegerField(_("survey resolved: yes"), default=0)
    handling_state_seconds = models.FloatField(_("handling state time (s)"), default=0)
    available_seconds = models.FloatField(_("available time (s)"), default=0)
    logged_in_seconds = models.FloatField(_("logged-in time (s)"), default=0)
    pii_detections = models.IntegerField(_("personal data detections"), default=0)
    qa_evaluations = models.IntegerField(_("QA evaluations"), default=0)
    qa_score_sum = models.FloatField(_("QA score sum"), default=0)

    class Meta:
        abstract = True


STAT_FIELDS = [f.name for f in StatColumns._meta.local_fields]


class IntervalStat(StatColumns):
    """One 15-minute interval for one unit of the chart."""

    interval_start = models.DateTimeField(_("interval start"))
    scope_kind = models.CharField(_("scope"), max_length=12, choices=ScopeKind.choices)
    scope_id = models.BigIntegerField(_("scope id"))

    class Meta:
        verbose_name = _("interval stat")
        verbose_name_plural = _("interval stats")
        constraints = [
            models.UniqueConstraint(
                fields=["scope_kind", "scope_id", "interval_start"],
                name="one_stat_per_scope_interval",
            )
        ]
        indexes = [models.Index(fields=["interval_start"])]

    def __str__(self) -> str:
        return f"{self.scope_kind}:{self.scope_id} {self.interval_start:%Y-%m-%d %H:%M}"


class DailyStat(StatColumns):
    """One day (center time zone) for one unit: the sum of its 15-minute rows, plus the
    number of agents who handled a call that day (calls per agent per day)."""

    day = models.DateField(_("day"))
    scope_kind = models.CharField(_("scope"), max_length=12, choices=ScopeKind.choices)
    scope_id = models.BigIntegerField(_("scope id"))
    agents_handling = models.IntegerField(_("agents who handled calls"), default=0)

    class Meta:
        verbose_name = _("daily stat")
        verbose_name_plural = _("daily stats")
        constraints = [
            models.UniqueConstraint(
                fields=["scope_kind", "scope_id", "day"], name="one_daily_stat_per_scope_day"
            )
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.scope_kind}:{self.scope_id} {self.day}"


class FillState(models.Model):
    """How far the incremental fill has read (by Call.updated_at and friends)."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    watermark = models.DateTimeField(_("read up to"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fill state")
        verbose_name_plural = _("fill states")

    def __str__(self) -> str:
        return self.name


# --- The monthly performance sheets (월간 평가; QA's scored calls are qa.Evaluation) -----


class PerformanceComponent(models.TextChoices):
    MAIN_TASK = "main_task", _("Main task")
    CALLS = "calls", _("Call count")
    CSAT = "csat", _("CSAT")
    QA = "qa", _("QA")
    MONTHLY_TEST = "monthly_test", _("Monthly test")


class PerformanceWeight(models.Model):
    """How much a component counts in the monthly score; per department, or the center
    default (no department)."""

    department = models.ForeignKey(
        "agents.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="performance_weights",
        verbose_name=_("department"),
    )
    component = models.CharField(
        _("component"), max_length=20, choices=PerformanceComponent.choices
    )
    weight = models.FloatField(_("weight"))

    class Meta:
        verbose_name = _("performance weight")
        verbose_name_plural = _("performance weights")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "component"], name="one_weight_per_department_component"
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="weight_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.department or '*'} {self.component}: {self.weight}"


class IncentiveBand(models.Model):
    """An incentive tier: a score at or above min_score earns it (highest band wins)."""

    name = models.CharField(_("name"), max_length=40)
    min_score = models.FloatField(_("minimum score"), unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("incentive band")
        verbose_name_plural = _("incentive bands")
        ordering = ["-min_score"]

    def __str__(self) -> str:
        return f"{self.name} (≥ {self.min_score})"


class PerformanceMonth(models.Model):
    """A month of performance sheets; once closed, its sheets are frozen."""

    month = models.DateField(_("month"), unique=True)  # the first day of the month
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("closed by"),
    )

    class Meta:
        verbose_name = _("performance month")
        verbose_name_plural = _("performance months")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class PerformanceMonthAction(models.TextChoices):
    CLOSED = "closed", pgettext_lazy("performance month", "Closed")
    REOPENED = "reopened", pgettext_lazy("performance month", "Reopened")


class PerformanceMonthEvent(models.Model):
    """The audit trail of a month's close: who closed or reopened it, when, and why (a
    reopen needs a reason; an early close records the days that were left)."""

    month = models.ForeignKey(
        PerformanceMonth, on_delete=models.CASCADE, related_name="events", verbose_name=_("month")
    )
    action = models.CharField(_("action"), max_length=10, choices=PerformanceMonthAction.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("person"),
    )
    at = models.DateTimeField(_("at"))
    reason = models.TextField(_("reason"), blank=True)
    days_left = models.PositiveIntegerField(_("days left"), null=True, blank=True)

    class Meta:
        verbose_name = _("month close event")
        verbose_name_plural = _("month close events")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.month} {self.action} {self.at:%Y-%m-%d %H:%M}"


class PerformanceSheet(models.Model):
    """One agent's monthly sheet. `components` keeps, per component, the actual figure, the
    target, the normalised score, the weight and how it was computed, so the sheet explains
    itself after the month is frozen."""

    month = models.ForeignKey(
        PerformanceMonth,
        on_delete=models.CASCADE,
        related_name="sheets",
        verbose_name=_("month"),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="performance_sheets",
        verbose_name=_("agent"),
    )
    team = models.ForeignKey(
        "agents.Team",
        on_delete=models.PROTECT,
        related_name="performance_sheets",
        verbose_name=_("team"),
    )
    department = models.ForeignKey(
        "agents.Department",
        on_delete=models.PROTECT,
        related_name="performance_sheets",
        verbose_name=_("department"),
    )
    components = models.JSONField(_("components"), default=list)
    score = models.FloatField(_("score"), null=True, blank=True)
    rank_in_team = models.PositiveIntegerField(_("rank in team"), null=True, blank=True)
    rank_in_department = models.PositiveIntegerField(_("rank in department"), null=True, blank=True)
    band = models.CharField(_("incentive band"), max_length=40, blank=True)
    # Exposure: days with a handled call, and handled calls. Below the minimum (the days
    # required that month, kpi.scoring.required_days, and KPI_EVALUATION_MIN_HANDLED)
    # the sheet is listed but not ranked or banded.
    worked_days = models.PositiveIntegerField(_("worked days"), default=0)
    handled = models.PositiveIntegerField(_("handled"), default=0)
    required_days = models.PositiveIntegerField(_("days required"), default=0)
    ranked = models.BooleanField(_("ranked"), default=True)
    lead_comment = models.TextField(_("team lead's comment"), blank=True)
    commented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("commented by"),
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("performance sheet")
        verbose_name_plural = _("performance sheets")
        ordering = ["month", "rank_in_department"]
        constraints = [
            models.UniqueConstraint(fields=["month", "agent"], name="one_sheet_per_agent_month")
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.agent}: {self.score}"
