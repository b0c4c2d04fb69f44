"""Customers, tickets, notes, dispositions and the ticket audit trail."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=100, blank=True)
    # E.164, normalised with phonenumbers; the screen pop looks callers up by it.
    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_vip = models.BooleanField(_("VIP"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or self.phone


class Disposition(models.Model):
    """Wrap-up outcome codes, per department (e.g. 해지: saved / not saved)."""

    department = models.ForeignKey(
        "agents.Department", on_delete=models.CASCADE, related_name="dispositions"
    )
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("label"), max_length=100)
    resolves = models.BooleanField(_("resolves the ticket"), default=True)

    class Meta:
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")
        ordering = ["department_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["department", "code"], name="disposition_code_unique")
        ]

    def __str__(self) -> str:
        return self.label


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING_CUSTOMER = "pending_customer", _("Pending customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class Ticket(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    department = models.ForeignKey(
        "agents.Department", on_delete=models.PROTECT, related_name="tickets"
    )
    team = models.ForeignKey(
        "agents.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(
        _("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def number(self) -> str:
        return f"T-{self.pk:06d}"


class TicketNote(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    call = models.ForeignKey(
        "telephony.Call", on_delete=models.SET_NULL, null=True, blank=True, related_name="notes"
    )
    body = models.TextField(_("note"))
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ticket note")
        verbose_name_plural = _("ticket notes")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"note on {self.ticket_id}"


class TicketEvent(models.Model):
    """Audit trail: who changed what, when, old → new. Shown as the ticket's history."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    kind = models.CharField(max_length=30)
    field = models.CharField(max_length=30, blank=True)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class PiiDetection(models.Model):
    """The PII guard found a customer identifier in text an agent was saving. Only the kind
    and the masked form are kept, never the identifier itself; QA counts these per agent."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pii_detections"
    )
    call = models.ForeignKey(
        "telephony.Call", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="pii_detections"
    )
    field = models.CharField(_("field"), max_length=40)
    kind = models.CharField(_("kind"), max_length=20)  # rrn | phone | card | email
    masked = models.CharField(_("saved as"), max_length=100)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("personal data detection")
        verbose_name_plural = _("personal data detections")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.kind} in {self.field} by {self.agent_id}"
