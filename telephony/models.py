"""Queues, calls, offers (reservations) and the call audit trail.

The database holds the truth about every call: a lost broker message only delays routing,
because the periodic sweep re-reads these rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Queue(models.Model):
    department = models.OneToOneField(
        "agents.Department", on_delete=models.PROTECT, related_name="queue"
    )
    name = models.CharField(_("name"), max_length=100)
    reservation_timeout_seconds = models.PositiveIntegerField(
        _("reservation timeout (s)"), default=20
    )
    wrapup_seconds = models.PositiveIntegerField(_("wrap-up time (s)"), default=120)
    service_level_seconds = models.PositiveIntegerField(
        _("service level threshold (s)"), default=20
    )

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class CallPhase(models.TextChoices):
    """Sangdam's view of the call's life (Twilio's CallStatus is kept apart)."""

    QUEUED = "queued", _("Waiting")
    OFFERED = "offered", _("Offered")
    CONNECTED = "connected", _("Connected")
    WRAP_UP = "wrap_up", _("Wrap-up")
    COMPLETED = "completed", _("Handled")
    ABANDONED = "abandoned", _("Abandoned")
    FAILED = "failed", _("Failed")


TERMINAL_TWILIO_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
TWILIO_STATUSES = {"queued", "ringing", "in-progress", *TERMINAL_TWILIO_STATUSES}


class Call(models.Model):
    sid = models.CharField(max_length=34, unique=True)
    direction = models.CharField(max_length=20, default="inbound")
    from_number = models.CharField(_("caller"), max_length=32)
    to_number = models.CharField(_("called number"), max_length=32)
    department = models.ForeignKey("agents.Department", on_delete=models.PROTECT)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="calls")
    customer = models.ForeignKey(
        "tickets.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    phase = models.CharField(max_length=20, choices=CallPhase.choices, default=CallPhase.QUEUED)
    twilio_status = models.CharField(max_length=20, default="ringing")
    last_sequence_number = models.IntegerField(default=-1)
    priority = models.SmallIntegerField(default=0)
    # Who handled it, and their team/department at the time (rollups must not move when
    # an agent later changes team).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_calls",
    )
    team = models.ForeignKey("agents.Team", on_delete=models.PROTECT, null=True, blank=True)
    enqueued_at = models.DateTimeField(db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    wrapup_ended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    queue_wait_seconds = models.FloatField(null=True, blank=True)
    talk_seconds = models.FloatField(null=True, blank=True)
    hold_seconds = models.FloatField(default=0)
    acw_seconds = models.FloatField(null=True, blank=True)
    twilio_duration_seconds = models.IntegerField(null=True, blank=True)
    disposition = models.ForeignKey(
        "tickets.Disposition", on_delete=models.SET_NULL, null=True, blank=True
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    wrapup_submitted_at = models.DateTimeField(null=True, blank=True)
    recording_sid = models.CharField(max_length=40, blank=True)
    recording_url = models.URLField(blank=True)
    recording_status = models.CharField(max_length=20, blank=True)
    recording_duration_seconds = models.IntegerField(null=True, blank=True)
    # Rollups re-read calls changed since their watermark.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-enqueued_at"]
        indexes = [models.Index(fields=["queue", "phase", "priority", "enqueued_at"])]

    def __str__(self) -> str:
        return f"{self.sid} {self.from_number}"


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

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers"
    )
    status = models.CharField(
        max_length=20, choices=OfferStatus.choices, default=OfferStatus.PENDING
    )
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # The agent's place in the longest-idle order, restored if the caller hangs up first.
    agent_idle_since = models.DateTimeField(null=True, blank=True)

    class Meta:
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

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    data = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=120, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%H:%M:%S}"


class SimulatorMessage(models.Model):
    """Simulated mode's log: REST requests Sangdam sent to "Twilio" and webhooks the
    simulator posted back. The simulator reads it the way Twilio reads its API."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    direction = models.CharField(max_length=10)  # "rest" (Sangdam → sim) | "webhook"
    call_sid = models.CharField(max_length=34, db_index=True)
    action = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    handled = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.direction} {self.action} {self.call_sid}"
