"""The org chart (Center → Department → Team), people, skills and agent states."""

from datetime import date

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Center(models.Model):
    name = models.CharField(_("name"), max_length=100)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Seoul")

    class Meta:
        verbose_name = _("center")
        verbose_name_plural = _("centers")

    def __str__(self) -> str:
        return self.name


class DepartmentKind(models.TextChoices):
    SIGNUP = "signup", _("Sign-up")
    CANCELLATION = "cancellation", _("Cancellation")
    GENERAL = "general", _("General")


class Department(models.Model):
    center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="departments", verbose_name=_("center")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=DepartmentKind.choices)
    # The called number picks the department until the IVR exists (E.164).
    phone_number = models.CharField(_("phone number"), max_length=20, unique=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="teams", verbose_name=_("department")
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["department_id", "id"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    TEAM_LEAD = "team_lead", _("Team lead")
    TRAINING_LEAD = "training_lead", _("Training lead")
    MANAGER = "manager", _("Manager")
    DIRECTOR = "director", _("Center director")
    ADMIN = "admin", _("Staff admin")


class Person(AbstractUser):
    """A user of Sangdam. Exactly one role; where they sit in the chart depends on it:
    agents and team leads have a team, managers manage departments, the rest the center."""

    display_name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    center = models.ForeignKey(
        Center,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="people",
        verbose_name=_("center"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("team"),
    )
    managed_departments = models.ManyToManyField(
        Department, blank=True, related_name="managers", verbose_name=_("managed departments")
    )
    reports_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("reports to"),
    )
    employee_no = models.CharField(_("employee number"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["display_name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=["agent", "team_lead"]) | Q(team__isnull=False),
                name="person_agents_and_leads_have_a_team",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def department_id(self) -> int | None:
        return self.team.department_id if self.team_id else None


class AgentState(models.TextChoices):
    OFFLINE = "offline", _("Offline")
    AVAILABLE = "available", _("Available")
    RESERVED = "reserved", _("Reserved")
    ON_CALL = "on_call", _("On call")
    WRAP_UP = "wrap_up", _("Wrap-up")
    NOT_READY = "not_ready", _("Not ready")
    NOT_RESPONDING = "not_responding", _("Not responding")


class NotReadyReason(models.TextChoices):
    BREAK = "break", _("Break")
    LUNCH = "lunch", _("Lunch")
    TRAINING = "training", _("Training")
    MEETING = "meeting", _("Meeting")
    COACHING = "coaching", _("Coaching")
    SYSTEM = "system", _("System")


class AgentStatus(models.Model):
    """The agent's current state; the history lives in AgentStateInterval."""

    person = models.OneToOneField(
        Person,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="status",
        verbose_name=_("person"),
    )
    state = models.CharField(
        _("state"), max_length=20, choices=AgentState.choices, default=AgentState.OFFLINE
    )
    reason = models.CharField(
        _("reason"), max_length=20, choices=NotReadyReason.choices, blank=True
    )
    since = models.DateTimeField(_("since"))
    # Longest-idle routing orders by this: when the agent last became AVAILABLE.
    available_since = models.DateTimeField(_("available since"), null=True, blank=True)
    # What the agent asked for while busy (e.g. a break after this call); applied at the end
    # of wrap-up and never overwritten by the return to AVAILABLE.
    requested_state = models.CharField(
        _("requested state"), max_length=20, choices=AgentState.choices, blank=True
    )
    requested_reason = models.CharField(
        _("requested reason"), max_length=20, choices=NotReadyReason.choices, blank=True
    )
    wrapup_deadline = models.DateTimeField(_("wrap-up deadline"), null=True, blank=True)
    # A 실장 who is Available for 실장 연결 only: the ACD never offers them queue calls;
    # agents' escalations ring them (telephony.services.transfers.escalation_target).
    escalations_only = models.BooleanField(_("escalations only"), default=False)
    # Round-robin and fewest-calls routing read these.
    last_offered_at = models.DateTimeField(_("last offered at"), null=True, blank=True)
    calls_today = models.PositiveIntegerField(_("calls today"), default=0)
    calls_today_date = models.DateField(_("calls counted on"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent status")
        verbose_name_plural = _("agent statuses")
        # Longest-idle routing walks the available agents in (available_since, person)
        # order and stops at the batch's size: the index gives that order, where one
        # without the person had PostgreSQL sort all 2,000 agents (4 ms against 0.5 ms).
        indexes = [
            models.Index(
                fields=["state", "available_since", "person"], name="agentstatus_idle_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_state_display()}"


class AgentStateInterval(models.Model):
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="state_intervals",
        verbose_name=_("person"),
        db_index=False,  # the (person, id) index below leads with it
    )
    state = models.CharField(_("state"), max_length=20, choices=AgentState.choices)
    reason = models.CharField(
        _("reason"), max_length=20, choices=NotReadyReason.choices, blank=True
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent state interval")
        verbose_name_plural = _("agent state intervals")
        indexes = [
            models.Index(fields=["person", "started_at"]),
            # A person's newest interval: the end of
            # one person's range. By the primary key alone, PostgreSQL walks back from the
            # newest interval of anyone until it meets the person's, for a person whose
            # last change is old most of the table.
            models.Index(fields=["person", "id"], name="agentstateinterval_person_id"),
            # The KPI fill's open and recently ended states (ended_at IS NULL OR ended_at >
            # its watermark): two ranges of this index instead of every interval on file.
            models.Index(fields=["ended_at"], name="agentstateinterval_ended_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(ended_at__isnull=True),
                name="one_open_state_interval_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.get_state_display()} {self.started_at:%H:%M:%S}"


class QueueMembership(models.Model):
    """An agent's skill: membership of a queue with a proficiency level (1 low – 10 high)."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="skills", verbose_name=_("person")
    )
    queue = models.ForeignKey(
        "telephony.Queue", on_delete=models.CASCADE, related_name="members", verbose_name=_("queue")
    )
    proficiency = models.PositiveSmallIntegerField(_("proficiency"), default=5)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        constraints = [
            models.UniqueConstraint(fields=["person", "queue"], name="one_membership_per_queue"),
            models.CheckConstraint(
                condition=Q(proficiency__gte=1) & Q(proficiency__lte=10),
                name="proficiency_between_1_and_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.queue} ({self.proficiency})"


class RequestKind(models.TextChoices):
    ESCALATION = "escalation", _("Escalation")
    REFUND = "refund", _("Refund")
    EXCEPTION = "exception", _("Exception")
    BREAK = "break", _("Break")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")


class ApprovalRequest(models.Model):
    """Something an agent needs their 실장 to decide: an escalated ticket, a refund or an
    exception beyond the agent's authority, a break. Lands in the team lead's inbox."""

    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    requester = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="requests", verbose_name=_("requester")
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="requests", verbose_name=_("team")
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="approval_requests",
        verbose_name=_("ticket"),
    )
    reason = models.TextField(_("reason"))
    amount = models.PositiveIntegerField(_("amount (KRW)"), null=True, blank=True)
    # A break request: when and how long.
    break_start = models.DateTimeField(_("break from"), null=True, blank=True)
    break_minutes = models.PositiveSmallIntegerField(_("minutes"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    decided_by = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "status"])]
        constraints = [
            # One escalation of a ticket waits for the 실장 at a time (two agents, or two
            # clicks, escalating at once: the second is refused).
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(kind="escalation", status="pending"),
                name="one_pending_escalation_per_ticket",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.requester_id}: {self.status}"


class WorkingHours(models.Model):
    """An agent's working hours on a weekday, set by their 실장 (0 = Monday)."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("person")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["person_id", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["person", "weekday"], name="one_shift_per_weekday")
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.weekday} {self.starts:%H:%M}–{self.ends:%H:%M}"


class BreakSlot(models.Model):
    """A scheduled break of an agent (set by the 실장, or an approved break request)."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="break_slots", verbose_name=_("person")
    )
    starts_at = models.DateTimeField(_("from"), db_index=True)
    minutes = models.PositiveSmallIntegerField(_("minutes"))
    reason = models.CharField(
        _("reason"), max_length=20, choices=NotReadyReason.choices, default=NotReadyReason.BREAK
    )
    set_by = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("set by")
    )

    class Meta:
        verbose_name = _("scheduled break")
        verbose_name_plural = _("scheduled breaks")
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"{self.person} {self.starts_at:%H:%M} {self.minutes}m"


# --- Targets ------------------------------------------------------------------------------
# They sit on the org chart (center, department, team) so every floor that shows one (the
# desktop, the org chart, tickets' today figures, KPI pages, the monthly evaluation) reads
# the same resolved value through agents.targets.selectors, without importing kpi.


class TargetMetric(models.TextChoices):
    SERVICE_LEVEL = "service_level", _("Service level")
    AHT = "aht", _("AHT")
    CALLS_PER_DAY = "calls_per_day", _("Calls per agent per day")
    CSAT = "csat", _("CSAT")
    QA = "qa", _("QA average")
    MAIN_TASK = "main_task", _("Main task rate")
    FCR = "fcr", _("FCR")


class TargetUnit(models.TextChoices):
    RATE = "rate"
    SECONDS = "seconds"
    COUNT = "count"


# How each metric is stored: rates as fractions (0.85 = 85 %, QA too: a QA score is a
# percentage of the scorecard's maximum), durations in seconds, counts as numbers.
TARGET_UNITS = {
    TargetMetric.SERVICE_LEVEL: TargetUnit.RATE,
    TargetMetric.AHT: TargetUnit.SECONDS,
    TargetMetric.CALLS_PER_DAY: TargetUnit.COUNT,
    TargetMetric.CSAT: TargetUnit.RATE,
    TargetMetric.QA: TargetUnit.RATE,
    TargetMetric.MAIN_TASK: TargetUnit.RATE,
    TargetMetric.FCR: TargetUnit.RATE,
}
RATE_METRICS = [m for m, unit in TARGET_UNITS.items() if unit == TargetUnit.RATE]

# Metrics where lower is better: normalisation divides target by actual.
LOWER_IS_BETTER = {TargetMetric.AHT}

# Rows carried over from before targets were dated (migrations agents 0009, kpi 0006).
SINCE_THE_START = date(2000, 1, 1)


class Target(models.Model):
    """A goal for the center, a department or one team, effective from the first day of a
    month until a later row for the same unit and metric: a team's overrides its
    department's, a department's the center's. Rows are never edited into the past: a new
    value from month M leaves earlier months as they were (history, who set it and when)."""

    center = models.ForeignKey(
        Center,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("center"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("department"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("team"),
    )
    metric = models.CharField(_("metric"), max_length=20, choices=TargetMetric.choices)
    # None: from this month the unit has no target of its own and inherits the one above.
    value = models.FloatField(_("target"), null=True, blank=True)
    effective_from = models.DateField(_("effective from"))
    set_by = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
    )
    set_at = models.DateTimeField(_("set at"))

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["metric", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(center__isnull=False, department__isnull=True, team__isnull=True)
                | Q(center__isnull=True, department__isnull=False, team__isnull=True)
                | Q(center__isnull=True, department__isnull=True, team__isnull=False),
                name="target_for_one_unit",
            ),
            models.CheckConstraint(
                condition=~Q(metric__in=RATE_METRICS) | Q(value__gte=0, value__lte=1),
                name="target_rate_is_a_fraction",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="target_not_negative"),
            models.UniqueConstraint(
                fields=["center", "metric", "effective_from"],
                condition=Q(center__isnull=False),
                name="one_center_target_per_metric_month",
            ),
            models.UniqueConstraint(
                fields=["department", "metric", "effective_from"],
                condition=Q(department__isnull=False),
                name="one_department_target_per_metric_month",
            ),
            models.UniqueConstraint(
                fields=["team", "metric", "effective_from"],
                condition=Q(team__isnull=False),
                name="one_team_target_per_metric_month",
            ),
        ]

    def __str__(self) -> str:
        unit = self.team or self.department or self.center
        return f"{unit}: {self.metric} {self.value} from {self.effective_from:%Y-%m}"
