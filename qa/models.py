"""QA: versioned scorecards, sampled evaluations of recorded calls, disputes, coaching and
calibration. The scoring formula lives in qa/scoring.py (DOMAIN.md "QA scoring")."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ScorecardStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class AutoFailMode(models.TextChoices):
    OVERALL = "overall", _("Whole score")
    SECTION = "section", _("Section only")


class Scorecard(models.Model):
    """One version of a scorecard. Versions of the same scorecard share `family`; a published
    version is never edited: editing it means a new draft version (qa.services
    scorecard_new_version), and evaluations keep the version they were scored with."""

    family = models.SlugField(_("scorecard key"), max_length=60)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    # Empty department: the center-wide scorecard, used where a department has none.
    department = models.ForeignKey(
        "agents.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scorecards",
        verbose_name=_("department"),
    )
    queue = models.ForeignKey(
        "telephony.Queue",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scorecards",
        verbose_name=_("queue"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ScorecardStatus.choices, default=ScorecardStatus.DRAFT
    )
    auto_fail_mode = models.CharField(
        _("auto-fail zeroes"),
        max_length=20,
        choices=AutoFailMode.choices,
        default=AutoFailMode.OVERALL,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["family", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["family", "version"], name="qa_one_version_number"),
            models.UniqueConstraint(
                fields=["family"],
                condition=Q(status="published"),
                name="qa_one_published_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status == ScorecardStatus.DRAFT


class ScorecardSection(models.Model):
    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.CASCADE, related_name="sections", verbose_name=_("scorecard")
    )
    title = models.CharField(_("title"), max_length=120)
    weight = models.FloatField(_("weight"), default=1)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("scorecard section")
        verbose_name_plural = _("scorecard sections")
        ordering = ["scorecard_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=0), name="qa_section_weight_positive")
        ]

    def __str__(self) -> str:
        return self.title


class ItemKind(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no")
    SCALE = "scale", _("Scale")
    POINTS = "points", _("Points")


class ComplianceTag(models.TextChoices):
    NONE = "", _("None")
    RECORDING_NOTICE = "recording_notice", _("Recording notice given")
    IDENTITY_VERIFIED = "identity_verified", _("Identity verified")
    NO_PII = "no_pii", _("No personal data spoken or written")
    CORRECT_GUIDANCE = "correct_guidance", _("Correct guidance (오안내/오처리)")


class ScorecardItem(models.Model):
    """One criterion. Yes/no scores 0 or `max_points`; a scale 0…max_points in steps of one;
    points any value 0…max_points. A bonus item is not part of its section: what it earns is
    added to the overall score (DOMAIN.md "plus any bonus")."""

    section = models.ForeignKey(
        ScorecardSection, on_delete=models.CASCADE, related_name="items", verbose_name=_("section")
    )
    text = models.CharField(_("criterion"), max_length=200)
    guidance = models.TextField(_("guidance for evaluators"), blank=True)
    kind = models.CharField(_("type"), max_length=20, choices=ItemKind.choices)
    max_points = models.FloatField(_("maximum"), default=1)
    weight = models.FloatField(_("weight"), default=1)
    allow_na = models.BooleanField(_("N/A allowed"), default=False)
    auto_fail = models.BooleanField(_("auto-fail (critical)"), default=False)
    bonus = models.BooleanField(_("bonus"), default=False)
    compliance = models.CharField(
        _("compliance tag"), max_length=30, choices=ComplianceTag.choices, blank=True
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        ordering = ["section_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(max_points__gt=0), name="qa_item_max_positive"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="qa_item_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def scale_steps(self) -> list[int]:
        return list(range(int(self.max_points) + 1))


class SamplingPolicy(models.Model):
    """How many calls per agent a department's monthly sample takes, and which targeted
    rules add calls on top (DOMAIN.md / issue 5 "Sampling and assignment")."""

    department = models.OneToOneField(
        "agents.Department",
        on_delete=models.CASCADE,
        related_name="qa_policy",
        verbose_name=_("department"),
    )
    calls_per_agent = models.PositiveSmallIntegerField(_("random calls per agent"), default=2)
    long_handle_seconds = models.PositiveIntegerField(_("long handle time from (s)"), default=600)
    targeted_per_agent = models.PositiveSmallIntegerField(
        _("targeted calls per agent (at most)"), default=1
    )
    due_days = models.PositiveSmallIntegerField(_("days to evaluate"), default=7)

    class Meta:
        verbose_name = _("sampling policy")
        verbose_name_plural = _("sampling policies")

    def __str__(self) -> str:
        return str(self.department)


class SampleRunStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class AssignMode(models.TextChoices):
    TEAM_LEAD = "team_lead", _("The agent's own team lead")
    QA_STAFF = "qa_staff", _("Training / QA staff")
    BALANCED = "balanced", _("Team lead or QA staff, by workload")


class SampleRun(models.Model):
    """One monthly sampling run. Re-running the same month adds only what is missing."""

    center = models.ForeignKey(
        "agents.Center", on_delete=models.CASCADE, related_name="+", verbose_name=_("center")
    )
    department = models.ForeignKey(
        "agents.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
    )
    month = models.DateField(_("month"))  # first day of the month
    seed = models.IntegerField(_("seed"))
    rules = models.JSONField(_("targeted rules"), default=list, blank=True)
    assign_mode = models.CharField(
        _("assign to"), max_length=20, choices=AssignMode.choices, default=AssignMode.TEAM_LEAD
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=SampleRunStatus.choices, default=SampleRunStatus.PENDING
    )
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    created = models.PositiveIntegerField(_("evaluations created"), default=0)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sampling run")
        verbose_name_plural = _("sampling runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} #{self.pk}"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.is_over else 0)

    @property
    def is_over(self) -> bool:
        return self.status in (SampleRunStatus.DONE, SampleRunStatus.FAILED)


class EvaluationStatus(models.TextChoices):
    ASSIGNED = "assigned", _("To do")
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISPUTED = "disputed", _("Disputed")
    RESOLVED = "resolved", _("Dispute resolved")


OPEN_STATUSES = (EvaluationStatus.ASSIGNED, EvaluationStatus.DRAFT)
SCORED_STATUSES = (
    EvaluationStatus.SUBMITTED,
    EvaluationStatus.ACKNOWLEDGED,
    EvaluationStatus.DISPUTED,
    EvaluationStatus.RESOLVED,
)


class SampleReason(models.TextChoices):
    RANDOM = "random", _("Random sample")
    LOW_CSAT = "low_csat", _("Low CSAT")
    ESCALATION = "escalation", _("Escalation")
    LONG_HANDLE = "long_handle", _("Long handle time")
    PII = "pii", _("Personal data detected")
    NOT_SAVED = "not_saved", _("Cancellation not saved")
    MANUAL = "manual", _("Chosen by hand")
    CALIBRATION = "calibration", _("Calibration")


class Evaluation(models.Model):
    """One evaluator's scoring of one call segment against one scorecard version. The agent,
    team and department are those of the call (they do not move when the agent does)."""

    call = models.ForeignKey(
        "telephony.Call",
        on_delete=models.PROTECT,
        related_name="evaluations",
        verbose_name=_("call"),
    )
    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("scorecard")
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="qa_evaluations",
        verbose_name=_("agent"),
    )
    team = models.ForeignKey(
        "agents.Team", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("team")
    )
    department = models.ForeignKey(
        "agents.Department", on_delete=models.PROTECT, verbose_name=_("department")
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="qa_assigned",
        verbose_name=_("evaluator"),
    )
    reason = models.CharField(
        _("why sampled"), max_length=20, choices=SampleReason.choices, default=SampleReason.RANDOM
    )
    sample_run = models.ForeignKey(
        SampleRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evaluations",
        verbose_name=_("sampling run"),
    )
    month = models.DateField(_("sample month"))
    calibration = models.ForeignKey(
        "CalibrationSession",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="evaluations",
        verbose_name=_("calibration session"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=EvaluationStatus.choices,
        default=EvaluationStatus.ASSIGNED,
    )
    due_date = models.DateField(_("due"), null=True, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True)
    compliance_score = models.FloatField(_("compliance score"), null=True, blank=True)
    auto_failed = models.BooleanField(_("auto-failed"), default=False)
    feedback = models.TextField(_("feedback"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["evaluator", "status"]),
            models.Index(fields=["agent", "month"]),
        ]
        constraints = [
            # A call is sampled once; calibration scores the same call several times apart.
            models.UniqueConstraint(
                fields=["call"], condition=Q(calibration__isnull=True), name="qa_call_sampled_once"
            ),
            models.UniqueConstraint(
                fields=["calibration", "evaluator"],
                condition=Q(calibration__isnull=False),
                name="qa_one_calibration_score_per_evaluator",
            ),
        ]

    def __str__(self) -> str:
        return f"QA #{self.pk} {self.agent} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_scored(self) -> bool:
        return self.status in SCORED_STATUSES


class Answer(models.Model):
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="answers", verbose_name=_("evaluation")
    )
    item = models.ForeignKey(
        ScorecardItem, on_delete=models.PROTECT, related_name="answers", verbose_name=_("criterion")
    )
    value = models.FloatField(_("value"), null=True, blank=True)
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "item"], name="qa_one_answer_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.evaluation_id}/{self.item_id}"


class EvaluationComment(models.Model):
    """A comment pinned to a moment of the recording (seconds from its start)."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="comments", verbose_name=_("evaluation")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    at_seconds = models.FloatField(_("at (s)"))
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("timestamped comment")
        verbose_name_plural = _("timestamped comments")
        ordering = ["at_seconds", "id"]

    def __str__(self) -> str:
        return f"{self.at_seconds:.0f}s {self.body[:40]}"


class EvaluationEvent(models.Model):
    """The history of an evaluation: submitted, read, acknowledged, disputed, upheld,
    changed (with the score before and after and the answers before)."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="events", verbose_name=_("evaluation")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    kind = models.CharField(_("kind"), max_length=30)
    score_before = models.FloatField(_("score before"), null=True, blank=True)
    score_after = models.FloatField(_("score after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("evaluation event")
        verbose_name_plural = _("evaluation events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.evaluation_id}"


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    UPHELD = "upheld", _("Score upheld")
    CHANGED = "changed", _("Score changed")


class Dispute(models.Model):
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="disputes", verbose_name=_("evaluation")
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("raised by"),
    )
    reason = models.TextField(_("reason"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="qa_disputes_to_review",
        verbose_name=_("reviewer"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    resolution = models.TextField(_("resolution"), blank=True)
    score_before = models.FloatField(_("score before"), null=True, blank=True)
    score_after = models.FloatField(_("score after"), null=True, blank=True)
    raised_at = models.DateTimeField(_("raised at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation"], condition=Q(status="open"), name="qa_one_open_dispute"
            )
        ]

    def __str__(self) -> str:
        return f"dispute {self.evaluation_id} ({self.status})"


class CoachingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class CoachingPlan(models.Model):
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="coaching_plans",
        verbose_name=_("agent"),
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("coach"),
    )
    evaluation = models.ForeignKey(
        Evaluation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coaching",
        verbose_name=_("evaluation"),
    )
    goals = models.TextField(_("goals"))
    due_date = models.DateField(_("due"))
    follow_up_date = models.DateField(_("follow-up evaluation by"))
    status = models.CharField(
        _("status"), max_length=20, choices=CoachingStatus.choices, default=CoachingStatus.OPEN
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("coaching plan")
        verbose_name_plural = _("coaching plans")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.agent}: {self.goals[:40]}"


class CoachingTask(models.Model):
    plan = models.ForeignKey(
        CoachingPlan,
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("coaching plan"),
    )
    text = models.CharField(_("task"), max_length=300)
    due_date = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coaching task")
        verbose_name_plural = _("coaching tasks")
        ordering = ["plan_id", "id"]

    def __str__(self) -> str:
        return self.text


class CalibrationSession(models.Model):
    """Several evaluators score one call blind; the facilitator's scoring is the benchmark.
    Nobody sees another's scores until the facilitator reveals them."""

    title = models.CharField(_("title"), max_length=120)
    call = models.ForeignKey(
        "telephony.Call", on_delete=models.PROTECT, related_name="+", verbose_name=_("call")
    )
    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.PROTECT, related_name="+", verbose_name=_("scorecard")
    )
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("facilitator"),
    )
    revealed_at = models.DateTimeField(_("revealed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("calibration session")
        verbose_name_plural = _("calibration sessions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title
