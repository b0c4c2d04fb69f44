"""Customers, tickets, notes, dispositions and the ticket audit trail."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=100, blank=True)
    # E.164, normalised with phonenumbers; the screen pop looks callers up by it.
    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_vip = models.BooleanField(_("VIP"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # A duplicate merged into another record keeps pointing at it (its history moved there).
    # Indexed only where set (Meta.indexes): every caller lookup asks for the records that
    # are *not* merged, nearly all of them, and with a full index SQLite's planner, which
    # keeps no statistics, walked that index (every customer) instead of the phone's.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("merged into"),
        db_index=False,
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["merged_into"],
                name="customer_merged_into",
                condition=models.Q(merged_into__isnull=False),
            )
        ]

    def __str__(self) -> str:
        from tickets.templatetags.phone import phone_masked

        return self.name or phone_masked(self.phone)

    @property
    def number(self) -> str:
        return f"C-{self.pk:06d}"

    @property
    def label(self) -> str:
        """How pages name the customer: the name, or the customer number when no name is on
        file (a known customer is never shown as an unknown caller)."""
        return self.name or self.number


class CustomerPhone(models.Model):
    """A further phone number of a customer (the first is `Customer.phone`); the screen pop
    finds callers by any of them."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="phones", verbose_name=_("customer")
    )
    number = models.CharField(_("phone"), max_length=20, db_index=True)
    label = models.CharField(_("label"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("customer phone")
        verbose_name_plural = _("customer phones")
        constraints = [
            models.UniqueConstraint(fields=["customer", "number"], name="customer_phone_unique")
        ]

    def __str__(self) -> str:
        return self.number


class CustomerNote(models.Model):
    """A note about the customer (not about one ticket); merges leave a system note."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="notes", verbose_name=_("customer")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("author"),
    )
    body = models.TextField(_("note"))
    is_system = models.BooleanField(_("system note"), default=False)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("customer note")
        verbose_name_plural = _("customer notes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note on customer {self.customer_id}"


class CustomerEvent(models.Model):
    """A customer's history: who changed what, when, old → new (name, VIP, e-mail, numbers,
    notes, merges). Shown on the customer page. Identifiers are kept masked here, as the page
    shows them; seeing them whole stays the audited Show."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="events", verbose_name=_("customer")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("by"),
    )
    kind = models.CharField(_("kind"), max_length=30)
    field = models.CharField(_("field"), max_length=30, blank=True)
    old_value = models.CharField(_("old value"), max_length=200, blank=True)
    new_value = models.CharField(_("new value"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("customer event")
        verbose_name_plural = _("customer events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="customer_event_recent")]

    def __str__(self) -> str:
        return f"{self.kind} on customer {self.customer_id}"


class IdentifierView(models.Model):
    """Audit: someone looked at a customer's unmasked identifier (phone, e-mail)."""

    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("viewer")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    field = models.CharField(_("field"), max_length=20)
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("unmasked identifier view")
        verbose_name_plural = _("unmasked identifier views")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.viewer_id} saw {self.field} of {self.customer_id}"


class TicketCategory(models.Model):
    """What a ticket is about, per department (e.g. 해지: 위약금 문의)."""

    department = models.ForeignKey(
        "agents.Department",
        on_delete=models.CASCADE,
        related_name="ticket_categories",
        verbose_name=_("department"),
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["department_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="category_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class BusinessHours(models.Model):
    """The center's working hours for SLA clocks (0 = Monday, center time zone). Public
    holidays come from the center's holiday calendar (Holiday, below). A closing time
    earlier than the opening time runs past midnight into the next day."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    center = models.ForeignKey(
        "agents.Center",
        on_delete=models.CASCADE,
        related_name="business_hours",
        verbose_name=_("center"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"), help_text=_("Earlier than opens: past midnight."))

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        ordering = ["center_id", "weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self):
        if self.opens is not None and self.opens == self.closes:
            raise ValidationError(
                {"closes": _("Closing time must differ from opening time (an empty window).")}
            )


class Holiday(models.Model):
    """A public holiday of the center: no business hours that day (SLA clocks), and the
    voice menu is closed (telephony.ivr)."""

    center = models.ForeignKey(
        "agents.Center", on_delete=models.CASCADE, related_name="holidays", verbose_name=_("center")
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        db_table = "telephony_holiday"  # its table from before it moved here (issue 19)
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["center", "date"], name="one_holiday_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SlaPolicy(models.Model):
    """Targets per priority in business minutes; a warning `warn_before_minutes` ahead."""

    center = models.ForeignKey(
        "agents.Center", on_delete=models.CASCADE, related_name="slas", verbose_name=_("center")
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(_("first response (business min)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (business min)"))
    warn_before_minutes = models.PositiveIntegerField(_("warn before (business min)"), default=30)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(fields=["center", "priority"], name="one_sla_per_priority")
        ]

    def __str__(self) -> str:
        return f"{self.priority}: {self.first_response_minutes}/{self.resolution_minutes}"


class Disposition(models.Model):
    """Wrap-up outcome codes, per department (e.g. 해지: saved / not saved)."""

    department = models.ForeignKey(
        "agents.Department",
        on_delete=models.CASCADE,
        related_name="dispositions",
        verbose_name=_("department"),
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
    MERGED = "merged", _("Merged")


class SlaState(models.TextChoices):
    NONE = "", _("No SLA")
    OK = "ok", _("On track")
    WARNING = "warning", _("Breach soon")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")


class Ticket(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("customer")
    )
    department = models.ForeignKey(
        "agents.Department",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("department"),
    )
    team = models.ForeignKey(
        "agents.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("team"),
        db_index=False,  # led by ticket_team_sla (Meta.indexes)
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
        db_index=False,  # led by ticket_assignee_sla (Meta.indexes)
    )
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(
        _("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    category = models.ForeignKey(
        TicketCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("category"),
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MINOR
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # The SLA clock, recomputed on every change and by the periodic sweep: the next target's
    # due time (None while paused or met), its state, and when its warning/breach was sent.
    sla_state = models.CharField(
        _("SLA"), max_length=10, choices=SlaState.choices, blank=True, default=""
    )  # indexed with the status, and with the team or assignee (Meta.indexes)
    sla_due_at = models.DateTimeField(_("SLA due at"), null=True, blank=True, db_index=True)
    sla_target = models.CharField(
        _("SLA target"), max_length=20, blank=True
    )  # first_response | resolution
    sla_warned_for = models.CharField(_("SLA warned for"), max_length=20, blank=True)
    sla_breached_for = models.CharField(_("SLA breached for"), max_length=20, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-updated_at"]
        # SLA alerts: the sweep's running clocks (by status), and each desk's and team
        # board's warnings
        # and breaches still open (polled). By the SLA state alone, or by the assignee's
        # own index, SQLite read every ticket that ever breached, closed ones included. The
        # team and assignee indexes also serve every other lookup by team or assignee.
        indexes = [
            models.Index(fields=["status", "sla_state"], name="ticket_status_sla"),
            models.Index(fields=["team", "sla_state", "status"], name="ticket_team_sla"),
            models.Index(fields=["assignee", "sla_state", "status"], name="ticket_assignee_sla"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def number(self) -> str:
        return f"T-{self.pk:06d}"


class TicketNote(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="notes", verbose_name=_("ticket")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("author")
    )
    call = models.ForeignKey(
        "telephony.Call",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notes",
        verbose_name=_("call"),
    )
    body = models.TextField(_("note"))
    # Threads: a reply points at the note it answers.
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("parent"),
    )
    # Public updates are what the customer sees on the case-status page.
    is_public = models.BooleanField(_("public update"), default=False)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("ticket note")
        verbose_name_plural = _("ticket notes")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"note on {self.ticket_id}"


class TicketEvent(models.Model):
    """Audit trail: who changed what, when, old → new. Shown as the ticket's history."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("ticket")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("by"),
    )
    kind = models.CharField(_("kind"), max_length=30)
    field = models.CharField(_("field"), max_length=30, blank=True)
    old_value = models.CharField(_("old value"), max_length=200, blank=True)
    new_value = models.CharField(_("new value"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class PiiDetection(models.Model):
    """The PII guard found a customer identifier in text an agent was saving. Only the kind
    and the masked form are kept, never the identifier itself; QA counts these per agent."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="pii_detections",
        verbose_name=_("agent"),
    )
    call = models.ForeignKey(
        "telephony.Call",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("call"),
    )
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pii_detections",
        verbose_name=_("ticket"),
    )
    field = models.CharField(_("field"), max_length=40)
    kind = models.CharField(_("kind"), max_length=20)  # rrn | phone | card | account | email
    masked = models.CharField(_("saved as"), max_length=100)
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("personal data detection")
        verbose_name_plural = _("personal data detections")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.kind} in {self.field} by {self.agent_id}"


class FollowUpTask(models.Model):
    """An outbound callback due at a time; the assignee's desktop reminds them."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="followups", verbose_name=_("customer")
    )
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name=_("ticket"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="followups",
        verbose_name=_("assignee"),
    )
    due_at = models.DateTimeField(_("due"), db_index=True)
    note = models.CharField(_("what to do"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        ordering = ["due_at"]

    def __str__(self) -> str:
        return f"follow-up {self.customer_id} at {self.due_at:%Y-%m-%d %H:%M}"


class CannedResponse(models.Model):
    """A ready answer for a category (or a whole department when no category is set)."""

    department = models.ForeignKey(
        "agents.Department",
        on_delete=models.CASCADE,
        related_name="canned_responses",
        verbose_name=_("department"),
    )
    category = models.ForeignKey(
        TicketCategory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"))

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["department_id", "title"]

    def __str__(self) -> str:
        return self.title


class CallScript(models.Model):
    """What to say, step by step, for a category (or the department's default script)."""

    department = models.ForeignKey(
        "agents.Department",
        on_delete=models.CASCADE,
        related_name="call_scripts",
        verbose_name=_("department"),
    )
    category = models.ForeignKey(
        TicketCategory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("script"))

    class Meta:
        verbose_name = _("call script")
        verbose_name_plural = _("call scripts")
        ordering = ["department_id", "title"]

    def __str__(self) -> str:
        return self.title


class SavedView(models.Model):
    """A ticket search someone named and keeps (its query string)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_views",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("query"), max_length=500)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class StatusCheck(models.Model):
    """One attempt of a customer to see their case on the public status page: the code sent
    by SMS (hashed), tries left, and the requester's address for rate limiting. A wrong
    ticket number or phone still creates a row (with no ticket), so the page answers the
    same either way."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("ticket")
    )
    # The case number as asked (T-000123 → "123"), matched or not: the per-case limit counts
    # these, so it answers the same whether the phone was right.
    ticket_key = models.CharField(_("case number asked"), max_length=16, blank=True, db_index=True)
    # The number the code goes to (E.164), only when it matched the case.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    code_hash = models.CharField(_("code hash"), max_length=128)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case-status check")
        verbose_name_plural = _("case-status checks")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"status check {self.pk}"
