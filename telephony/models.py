"""Queues, calls, offers (reservations) and the call audit trail.

The database holds the truth about every call: a lost broker message only delays routing,
because the periodic sweep re-reads these rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.templatetags.phone import phone_masked


class RoutingStrategy(models.TextChoices):
    LONGEST_IDLE = "longest_idle", _("Longest-idle agent")
    ROUND_ROBIN = "round_robin", _("Round robin")
    FEWEST_CALLS = "fewest_calls", _("Fewest calls today")
    SKILL_LEVEL = "skill_level", _("Highest skill level first")


class FullAction(models.TextChoices):
    CALLBACK = "callback", _("Book a callback that keeps the caller's place")
    VOICEMAIL = "voicemail", _("Take a voicemail")


class Queue(models.Model):
    department = models.OneToOneField(
        "agents.Department",
        on_delete=models.PROTECT,
        related_name="queue",
        verbose_name=_("department"),
    )
    name = models.CharField(_("name"), max_length=100)
    reservation_timeout_seconds = models.PositiveIntegerField(
        _("reservation timeout (s)"), default=20
    )
    wrapup_seconds = models.PositiveIntegerField(_("wrap-up time (s)"), default=120)
    service_level_seconds = models.PositiveIntegerField(
        _("service level threshold (s)"), default=20
    )
    strategy = models.CharField(
        _("routing strategy"),
        max_length=20,
        choices=RoutingStrategy.choices,
        default=RoutingStrategy.LONGEST_IDLE,
    )
    max_wait_seconds = models.PositiveIntegerField(
        _("maximum wait (s)"), default=600, help_text=_("0 = no limit")
    )
    max_size = models.PositiveIntegerField(
        _("maximum callers waiting"), default=100, help_text=_("0 = no limit")
    )
    overflow_queue = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="overflow_from",
        verbose_name=_("overflow queue"),
    )
    overflow_after_seconds = models.PositiveIntegerField(
        _("overflow after (s)"), null=True, blank=True
    )
    full_action = models.CharField(
        _("when full or over maximum wait"),
        max_length=20,
        choices=FullAction.choices,
        default=FullAction.CALLBACK,
    )
    announce_interval_seconds = models.PositiveIntegerField(
        _("position announcement every (s)"), default=30
    )
    callback_offer_wait_seconds = models.PositiveIntegerField(
        _("offer a callback when the expected wait exceeds (s)"), default=120
    )
    vip_priority = models.SmallIntegerField(_("priority of VIP callers"), default=20)
    open_ticket_priority = models.SmallIntegerField(
        _("priority of callers with an open ticket"), default=10
    )
    transfer_priority = models.SmallIntegerField(_("priority of transferred calls"), default=30)
    caller_id = models.CharField(
        _("outbound caller ID"),
        max_length=20,
        blank=True,
        help_text=_("E.164; the department's number when empty"),
    )
    # Round-robin's pointer: the agent who was offered the last call of this queue.
    last_offered_person_id = models.IntegerField(
        _("last offered person"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def outbound_caller_id(self) -> str:
        return self.caller_id or self.department.phone_number


class QueueTier(models.Model):
    """Routing widens with the wait: from `after_seconds` on, agents with at least
    `min_proficiency` in this queue may take the call. A queue without tiers takes every
    member from the first second."""

    queue = models.ForeignKey(
        Queue, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("queue")
    )
    after_seconds = models.PositiveIntegerField(_("from second"), default=0)
    min_proficiency = models.PositiveSmallIntegerField(_("minimum proficiency"), default=1)

    class Meta:
        verbose_name = _("routing tier")
        verbose_name_plural = _("routing tiers")
        ordering = ["queue_id", "after_seconds"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "after_seconds"], name="one_tier_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.queue}: ≥{self.min_proficiency} after {self.after_seconds}s"


class CallPhase(models.TextChoices):
    """Sangdam's view of the call's life (Twilio's CallStatus is kept apart)."""

    QUEUED = "queued", _("Waiting")
    OFFERED = "offered", _("Offered")
    CONNECTED = "connected", _("Connected")
    WRAP_UP = "wrap_up", _("Wrap-up")
    COMPLETED = "completed", _("Handled")
    ABANDONED = "abandoned", _("Abandoned")
    VOICEMAIL = "voicemail", _("Voicemail")
    DIALING = "dialing", _("Dialling")
    FAILED = "failed", _("Failed")


class CallDirection(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


TERMINAL_TWILIO_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
TWILIO_STATUSES = {"queued", "ringing", "in-progress", *TERMINAL_TWILIO_STATUSES}


class Handover(models.TextChoices):
    """How the agent's part of a call ended when someone else took the caller on."""

    ESCALATED = "escalated", _("Escalated to team lead")
    ESCALATION_QUEUED = "escalation_queued", _("Escalated to team lead: back in the queue")
    TRANSFERRED = "transferred", _("Transferred")


class Call(models.Model):
    """One handling of a customer's call. A transfer starts a new segment of the same
    Twilio call (same `sid`, next `segment`, `parent` pointing back), so each agent's
    talk and wrap-up stay their own; webhooks about the caller's leg go to the newest
    segment."""

    sid = models.CharField(_("call SID"), max_length=34)
    segment = models.PositiveSmallIntegerField(_("segment"), default=0)
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="transfers",
        verbose_name=_("parent"),
        db_index=False,  # a partial index below: most calls are nobody's transfer
    )
    direction = models.CharField(
        _("direction"), max_length=20, choices=CallDirection.choices, default=CallDirection.INBOUND
    )
    language = models.CharField(_("language"), max_length=5, default="ko")
    from_number = models.CharField(_("caller"), max_length=32)
    to_number = models.CharField(_("called number"), max_length=32)
    department = models.ForeignKey(
        "agents.Department", on_delete=models.PROTECT, verbose_name=_("department")
    )
    queue = models.ForeignKey(
        Queue,
        on_delete=models.PROTECT,
        related_name="calls",
        verbose_name=_("queue"),
        db_index=False,  # the (queue, phase, …) index below leads with it
    )
    customer = models.ForeignKey(
        "tickets.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("customer"),
        db_index=False,  # the (customer, department, enqueued_at) index below leads with it
    )
    phase = models.CharField(
        _("phase"), max_length=20, choices=CallPhase.choices, default=CallPhase.QUEUED
    )
    twilio_status = models.CharField(_("Twilio status"), max_length=20, default="ringing")
    last_sequence_number = models.IntegerField(_("last sequence number"), default=-1)
    priority = models.SmallIntegerField(_("priority"), default=0)
    # Who handled it, and their team/department at the time (rollups must not move when
    # an agent later changes team).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_calls",
        verbose_name=_("agent"),
        db_index=False,  # partial index below
    )
    team = models.ForeignKey(
        "agents.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("team"),
        db_index=False,  # partial index below
    )
    enqueued_at = models.DateTimeField(_("queued at"), db_index=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    wrapup_ended_at = models.DateTimeField(_("wrap-up ended at"), null=True, blank=True)
    queue_wait_seconds = models.FloatField(_("queue wait seconds"), null=True, blank=True)
    talk_seconds = models.FloatField(_("talk seconds"), null=True, blank=True)
    hold_seconds = models.FloatField(_("hold seconds"), default=0)
    acw_seconds = models.FloatField(_("wrap-up seconds"), null=True, blank=True)
    twilio_duration_seconds = models.IntegerField(
        _("Twilio duration (seconds)"), null=True, blank=True
    )
    disposition = models.ForeignKey(
        "tickets.Disposition",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("disposition"),
        db_index=False,  # partial index below
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("ticket"),
        db_index=False,  # partial index below
    )
    wrapup_submitted_at = models.DateTimeField(_("wrap-up submitted at"), null=True, blank=True)
    # What the agent writes while talking (상담 메모), carried into the wrap-up: stored only
    # after the PII guard masked it (telephony.services.call_notepad_save).
    notepad = models.TextField(_("call notes"), blank=True)
    notepad_disposition = models.ForeignKey(
        "tickets.Disposition",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("disposition chosen during the call"),
        db_index=False,  # read with its call, never searched by
    )
    recording_sid = models.CharField(_("recording SID"), max_length=40, blank=True)
    recording_url = models.URLField(_("recording URL"), blank=True)
    recording_status = models.CharField(_("recording status"), max_length=20, blank=True)
    recording_duration_seconds = models.IntegerField(
        _("recording length (seconds)"), null=True, blank=True
    )
    recording_error_code = models.CharField(_("recording error code"), max_length=10, blank=True)
    # A callback keeps the caller's place: the row stays queued with its original
    # enqueued_at after the caller hangs up, and is dialled out when an agent takes it.
    callback_requested_at = models.DateTimeField(_("callback requested at"), null=True, blank=True)
    callback_number = models.CharField(_("callback number"), max_length=32, blank=True)
    callback_sid = models.CharField(_("callback call SID"), max_length=34, blank=True)
    # Why the caller left the queue without an agent: max_wait, full, callback, voicemail.
    queue_exit = models.CharField(_("queue exit"), max_length=20, blank=True)
    overflowed_at = models.DateTimeField(_("overflowed at"), null=True, blank=True)
    hold_started_at = models.DateTimeField(_("hold started at"), null=True, blank=True)
    conference_sid = models.CharField(_("conference SID"), max_length=34, blank=True)
    agent_call_sid = models.CharField(_("agent leg call SID"), max_length=34, blank=True)
    # Where the agent handed the caller on (실장 연결 or a transfer), and to whom: the
    # agent's wrap-up and the ticket's history say so.
    handover = models.CharField(
        _("handed over"), max_length=20, choices=Handover.choices, blank=True
    )
    handover_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handed over to"),
        db_index=False,  # only read with its call
    )
    # Rollups re-read calls changed since their watermark.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-enqueued_at"]
        # Every incoming call writes one entry into each index that holds its row, so
        # columns that are empty when a call arrives (agent, ticket, wrap-up, …) get partial
        # indexes of the rows that have a value: a lookup by value (`agent_id = %s`, a
        # range of wrap-up times) implies IS NOT NULL and uses them, and a new call touches
        # 7 index pages instead of 18 (PostgreSQL and SQLite alike).
        indexes = [
            # Routing's waiting calls in priority and arrival order, and the full-queue check
            # (callers on the line without a booked callback), which reads this index only.
            # In the router's exact order (highest priority first, then arrival, then id),
            # so its locking read stops after the rows it takes instead of sorting the
            # queue's whole line first.
            models.Index(
                fields=[
                    "queue",
                    "phase",
                    "-priority",
                    "enqueued_at",
                    "id",
                    "callback_requested_at",
                ],
                name="call_queue_line",
            ),
            # FCR's repeat-contact lookup (kpi/services/collect.py::_handled_calls): a later handled
            # call of the same customer in the same department within 7 days, one range scan.
            models.Index(
                fields=["customer", "department", "enqueued_at"],
                name="call_customer_dept_enqueued",
                condition=Q(customer__isnull=False),
            ),
            *(
                models.Index(
                    fields=[field], name=f"call_{field}", condition=Q(**{f"{field}__isnull": False})
                )
                for field in ("parent", "disposition", "ticket", "wrapup_ended_at")
            ),
            # An agent's or a team's calls by phase: the desktop's live call and handled
            # count, the reaper's "on a call with no live call", the team board's live calls.
            # By agent alone, each of those read the agent's whole history (a year of calls).
            models.Index(
                fields=["agent", "phase", "wrapup_ended_at"],
                name="call_agent_phase",
                condition=Q(agent__isnull=False),
            ),
            models.Index(
                fields=["team", "phase"], name="call_team_phase", condition=Q(team__isnull=False)
            ),
            # Calls whose wrap-up ran out unsubmitted (the desktop lists them): a few rows.
            models.Index(
                fields=["agent", "ended_at"],
                name="call_wrapup_unsubmitted",
                condition=Q(
                    agent__isnull=False,
                    phase=CallPhase.COMPLETED,
                    wrapup_submitted_at__isnull=True,
                ),
            ),
            # The sweep's stuck dials and unplaced callback legs: live calls only.
            models.Index(
                fields=["enqueued_at"], name="call_dialing", condition=Q(phase=CallPhase.DIALING)
            ),
            models.Index(
                fields=["answered_at"],
                name="call_connected",
                condition=Q(phase=CallPhase.CONNECTED),
            ),
            # The expected wait's mean handling time: a queue's calls wrapped up lately
            # (by queue and phase, SQLite read every call the queue ever completed).
            models.Index(
                fields=["queue", "wrapup_ended_at"],
                name="call_queue_wrapped_up",
                condition=Q(wrapup_ended_at__isnull=False),
            ),
            models.Index(
                fields=["callback_sid"], name="call_callback_sid", condition=~Q(callback_sid="")
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["sid", "segment"], name="one_segment_number_per_sid")
        ]

    def __str__(self) -> str:
        return f"{self.sid} {phone_masked(self.from_number)}"

    @property
    def is_callback(self) -> bool:
        return self.callback_requested_at is not None


class OfferStatus(models.TextChoices):
    PENDING = "pending", _("Ringing")
    ACCEPTED = "accepted", _("Accepted")
    EXPIRED = "expired", _("Not answered")
    CANCELLED = "cancelled", _("Cancelled")


class Offer(models.Model):
    """A reservation: one call offered to one agent until accepted or expired.

    The partial unique constraints are the last line of defence behind the router's locks:
    an agent never holds two pending offers and a call is never offered twice at once.
    """

    call = models.ForeignKey(
        Call, on_delete=models.CASCADE, related_name="offers", verbose_name=_("call")
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="offers",
        verbose_name=_("agent"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=OfferStatus.choices, default=OfferStatus.PENDING
    )
    offered_at = models.DateTimeField(_("offered at"))
    # Indexed while pending only (Meta.indexes): the sweep asks for pending offers past
    # their deadline, and a full index led SQLite through every offer ever made.
    expires_at = models.DateTimeField(_("expires at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The agent's place in the longest-idle order, restored if the caller hangs up first.
    agent_idle_since = models.DateTimeField(_("agent idle since"), null=True, blank=True)

    class Meta:
        verbose_name = _("call offer")
        verbose_name_plural = _("call offers")
        indexes = [
            models.Index(
                fields=["expires_at"],
                name="offer_pending_expiry",
                condition=Q(status=OfferStatus.PENDING),
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["agent"], condition=Q(status="pending"), name="one_pending_offer_per_agent"
            ),
            models.UniqueConstraint(
                fields=["call"], condition=Q(status="pending"), name="one_pending_offer_per_call"
            ),
        ]

    def __str__(self) -> str:
        return f"offer {self.pk} of call {self.call_id} to {self.agent_id} ({self.status})"


class CallEvent(models.Model):
    """The call's audit trail, and the idempotency ledger for webhooks: a replayed webhook
    carries the same dedupe_key and is recognised and ignored."""

    call = models.ForeignKey(
        Call, on_delete=models.CASCADE, related_name="events", verbose_name=_("call")
    )
    kind = models.CharField(_("kind"), max_length=40)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("by"),
        db_index=False,  # partial index below: webhooks' events have no actor
    )
    data = models.JSONField(_("data"), default=dict, blank=True)
    dedupe_key = models.CharField(
        _("deduplication key"), max_length=120, unique=True, null=True, blank=True
    )

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["actor"], name="callevent_actor", condition=Q(actor__isnull=False))
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%H:%M:%S}"


class SimulatorDirection(models.TextChoices):
    REST = "rest", _("Sangdam → simulator (REST)")
    WEBHOOK = "webhook", _("Simulator → Sangdam (webhook)")
    SIM = "sim", _("Simulator's own state")


class SimulatorMessage(models.Model):
    """Simulated mode's log: REST requests Sangdam sent to "Twilio" and webhooks the
    simulator posted back. The simulator reads it the way Twilio reads its API."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    direction = models.CharField(_("direction"), max_length=10, choices=SimulatorDirection.choices)
    call_sid = models.CharField(_("call SID"), max_length=34, db_index=True)
    action = models.CharField(_("action"), max_length=40)
    data = models.JSONField(_("data"), default=dict, blank=True)
    handled = models.BooleanField(_("handled"), default=False)

    class Meta:
        verbose_name = _("simulator message")
        verbose_name_plural = _("simulator messages")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.direction} {self.action} {self.call_sid}"


class Voicemail(models.Model):
    """A message left when the center is closed, the queue is full or the wait too long."""

    call_sid = models.CharField(_("call SID"), max_length=34)
    call = models.ForeignKey(
        Call,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="voicemails",
        verbose_name=_("call"),
    )
    department = models.ForeignKey(
        "agents.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("department"),
    )
    customer = models.ForeignKey(
        "tickets.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("customer"),
    )
    from_number = models.CharField(_("caller"), max_length=32)
    reason = models.CharField(_("reason"), max_length=20)  # closed | full | max_wait | choice
    recording_sid = models.CharField(_("recording SID"), max_length=40, unique=True)
    recording_url = models.URLField(_("recording URL"), blank=True)
    recording_status = models.CharField(_("recording status"), max_length=20, blank=True)
    duration_seconds = models.IntegerField(_("length (seconds)"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("handled by"),
    )

    class Meta:
        verbose_name = _("voicemail")
        verbose_name_plural = _("voicemails")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{phone_masked(self.from_number)} {self.received_at:%Y-%m-%d %H:%M}"


class SmsMessage(models.Model):
    """A text message to or from a customer (incoming via the SMS webhook)."""

    sid = models.CharField(_("call SID"), max_length=34, unique=True)
    direction = models.CharField(
        _("direction"), max_length=10, choices=CallDirection.choices, default=CallDirection.INBOUND
    )
    from_number = models.CharField(_("from number"), max_length=32)
    to_number = models.CharField(_("to number"), max_length=32)
    body = models.TextField(_("text"), blank=True)
    customer = models.ForeignKey(
        "tickets.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sms_messages",
        verbose_name=_("customer"),
    )
    department = models.ForeignKey(
        "agents.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("department"),
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.direction} {phone_masked(self.from_number)} → {phone_masked(self.to_number)}"


# --- Post-call surveys (CSAT) -----------------------------------------------------------
# The table keeps the name it had when the model was KPI's (kpi_survey).


class SurveyChannel(models.TextChoices):
    IVR = "ivr", _("Phone (IVR)")
    SMS = "sms", _("Text message")


class Survey(models.Model):
    """One post-call satisfaction survey: asked by the voice menu after the agent hangs up
    (if the caller opted in) or by text message after the call. Answered at most once."""

    channel = models.CharField(_("channel"), max_length=5, choices=SurveyChannel.choices)
    call_sid = models.CharField(_("call SID"), max_length=34, db_index=True)
    call = models.ForeignKey(
        Call,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("call"),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("agent"),
    )
    customer = models.ForeignKey(
        "tickets.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("customer"),
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    opted_in_at = models.DateTimeField(_("opted in at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("asked at"), null=True, blank=True)
    message_sid = models.CharField(_("message SID"), max_length=34, blank=True)
    score = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)
    resolved = models.BooleanField(_("resolved"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True, db_index=True)
    reply_text = models.CharField(_("reply"), max_length=320, blank=True)
    # The incoming message that answered (or was clarified): a retried webhook is seen again.
    reply_message_sid = models.CharField(_("reply message SID"), max_length=34, blank=True)
    clarification_sent_at = models.DateTimeField(_("clarification sent at"), null=True, blank=True)
    clarified_message_sid = models.CharField(_("clarified message SID"), max_length=34, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        db_table = "kpi_survey"
        ordering = ["-sent_at", "-id"]
        # A customer's SMS reply finds the newest survey sent to their number.
        indexes = [models.Index(fields=["phone", "sent_at"], name="survey_phone_sent")]
        constraints = [
            models.UniqueConstraint(
                fields=["call_sid", "channel"], name="one_survey_per_call_and_channel"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=1) & Q(score__lte=5)),
                name="survey_score_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} survey {self.call_sid}: {self.score or '–'}"


# --- IVR ---------------------------------------------------------------------------------


class IvrMenu(models.Model):
    """A voice menu. A root menu owns a phone number (대표번호); options lead to a queue,
    a sub-menu, a callback or voicemail. Every prompt exists in Korean and English."""

    name = models.CharField(_("name"), max_length=100)
    center = models.ForeignKey(
        "agents.Center",
        on_delete=models.PROTECT,
        related_name="ivr_menus",
        verbose_name=_("center"),
    )
    phone_number = models.CharField(
        _("phone number"),
        max_length=20,
        unique=True,
        null=True,
        blank=True,
        help_text=_("E.164; set on the root menu of a number only"),
    )
    greeting_ko = models.TextField(_("greeting (Korean)"), blank=True)
    greeting_en = models.TextField(_("greeting (English)"), blank=True)
    prompt_ko = models.TextField(_("menu prompt (Korean)"))
    prompt_en = models.TextField(_("menu prompt (English)"))
    offer_language_choice = models.BooleanField(_("offer English (press 9)"), default=True)
    timeout_seconds = models.PositiveSmallIntegerField(_("wait for a key (s)"), default=6)
    max_retries = models.PositiveSmallIntegerField(_("repeats before giving up"), default=2)
    default_queue = models.ForeignKey(
        Queue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("queue after the last repeat"),
    )
    closed_message_ko = models.TextField(_("closed message (Korean)"), blank=True)
    closed_message_en = models.TextField(_("closed message (English)"), blank=True)
    closed_action = models.CharField(
        _("when closed"),
        max_length=20,
        choices=[
            ("voicemail", _("Take a voicemail")),
            ("callback", _("Book a callback for when we open (default queue)")),
            ("hangup", _("Hang up")),
        ],
        default="voicemail",
    )

    class Meta:
        verbose_name = _("IVR menu")
        verbose_name_plural = _("IVR menus")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class IvrAction(models.TextChoices):
    QUEUE = "queue", _("Queue")
    SUBMENU = "submenu", _("Sub-menu")
    CALLBACK = "callback", _("Callback")
    VOICEMAIL = "voicemail", _("Voicemail")
    REPEAT = "repeat", _("Repeat the menu")


class IvrOption(models.Model):
    menu = models.ForeignKey(
        IvrMenu, on_delete=models.CASCADE, related_name="options", verbose_name=_("menu")
    )
    digit = models.CharField(_("key"), max_length=1)
    label_ko = models.CharField(_("label (Korean)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    speech_keywords = models.CharField(
        _("speech keywords"), max_length=200, blank=True, help_text=_("comma-separated")
    )
    action = models.CharField(_("action"), max_length=20, choices=IvrAction.choices)
    queue = models.ForeignKey(
        Queue, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("queue")
    )
    submenu = models.ForeignKey(
        IvrMenu,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="parents",
        verbose_name=_("submenu"),
    )

    class Meta:
        verbose_name = _("IVR option")
        verbose_name_plural = _("IVR options")
        ordering = ["menu_id", "digit"]
        constraints = [models.UniqueConstraint(fields=["menu", "digit"], name="one_option_per_key")]

    def __str__(self) -> str:
        return f"{self.menu} {self.digit}: {self.label_ko}"


class OpeningHours(models.Model):
    """Opening hours of a root menu's number, in the center's time zone (0 = Monday)."""

    menu = models.ForeignKey(
        IvrMenu, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("menu")
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["menu_id", "weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"
