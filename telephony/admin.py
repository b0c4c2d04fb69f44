from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agents.models import QueueMembership
from telephony.models import (
    Call,
    CallEvent,
    IvrMenu,
    IvrOption,
    Offer,
    OpeningHours,
    Queue,
    QueueTier,
    SimulatorMessage,
    SmsMessage,
    Survey,
    Voicemail,
)
from tickets.templatetags.phone import phone_masked


def _masked(field: str, label):
    """A list column with the number masked: outside the live screen pop, seeing a
    caller's whole number is the audited Show of the customer's page."""

    @admin.display(description=label, ordering=field)
    def column(obj) -> str:
        return phone_masked(getattr(obj, field))

    column.__name__ = f"{field}_masked"
    return column


class CallEventInline(admin.TabularInline):
    model = CallEvent
    extra = 0
    readonly_fields = ["kind", "at", "actor", "data", "dedupe_key"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = [
        "sid",
        _masked("from_number", _("caller")),
        "department",
        "phase",
        "twilio_status",
        "agent",
        "enqueued_at",
    ]
    list_filter = ["phase", "department"]
    search_fields = ["sid", "from_number"]
    inlines = [CallEventInline]
    raw_id_fields = ["customer", "ticket", "agent"]


class QueueTierInline(admin.TabularInline):
    model = QueueTier
    extra = 0


class QueueMembershipInline(admin.TabularInline):
    model = QueueMembership
    extra = 0
    raw_id_fields = ["person"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "department",
        "strategy",
        "max_wait_seconds",
        "max_size",
        "overflow_queue",
        "full_action",
    ]
    inlines = [QueueTierInline, QueueMembershipInline]
    fieldsets = [
        (None, {"fields": ["department", "name", "strategy"]}),
        (
            _("Timers"),
            {
                "fields": [
                    "reservation_timeout_seconds",
                    "wrapup_seconds",
                    "service_level_seconds",
                    "announce_interval_seconds",
                ]
            },
        ),
        (
            _("Limits and overflow"),
            {
                "fields": [
                    "max_wait_seconds",
                    "max_size",
                    "full_action",
                    "callback_offer_wait_seconds",
                    "overflow_queue",
                    "overflow_after_seconds",
                ]
            },
        ),
        (
            _("Priority"),
            {"fields": ["vip_priority", "open_ticket_priority", "transfer_priority"]},
        ),
        (_("Outbound"), {"fields": ["caller_id"]}),
    ]


admin.site.register(Offer, list_display=["call", "agent", "status", "offered_at", "expires_at"])


@admin.register(SimulatorMessage)
class SimulatorMessageAdmin(admin.ModelAdmin):
    """Simulated mode's log, which is also the demo customer's phone: a text message Sangdam
    sent (action "sms", such as the case-status page's one-time code) reads here as the
    customer receives it. Admin → Text messages keeps the code masked, as a center's own
    records must."""

    list_display = ["at", "direction", "call_sid", "action", "text_received"]
    list_filter = ["action", "direction"]

    @admin.display(description=_("text received"))
    def text_received(self, obj: SimulatorMessage) -> str:
        if obj.action != "sms":
            return ""
        return f"{phone_masked(obj.data.get('to', ''))}: {obj.data.get('body', '')}"


# --- IVR, voicemail, SMS -------------------------------------------------------------------


class IvrOptionInline(admin.TabularInline):
    model = IvrOption
    fk_name = "menu"  # `submenu` points at a menu too
    extra = 0
    fields = ["digit", "label_ko", "label_en", "action", "queue", "submenu", "speech_keywords"]


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


@admin.register(IvrMenu)
class IvrMenuAdmin(admin.ModelAdmin):
    list_display = ["name", "phone_number", "center", "offer_language_choice", "closed_action"]
    list_filter = ["center"]
    inlines = [IvrOptionInline, OpeningHoursInline]
    fieldsets = [
        (None, {"fields": ["name", "center", "phone_number", "default_queue"]}),
        (
            _("Prompts"),
            {"fields": ["greeting_ko", "greeting_en", "prompt_ko", "prompt_en"]},
        ),
        (
            _("Keys and repeats"),
            {"fields": ["offer_language_choice", "timeout_seconds", "max_retries"]},
        ),
        (
            _("When closed"),
            {"fields": ["closed_action", "closed_message_ko", "closed_message_en"]},
        ),
    ]


admin.site.register(
    Voicemail,
    list_display=[
        "received_at",
        _masked("from_number", _("caller")),
        "department",
        "reason",
        "handled_at",
    ],
    list_filter=["department", "reason"],
    raw_id_fields=["call", "customer", "handled_by"],
)
admin.site.register(
    SmsMessage,
    list_display=[
        "at",
        "direction",
        _masked("from_number", _("from number")),
        _masked("to_number", _("to number")),
        "department",
    ],
    raw_id_fields=["customer"],
)
admin.site.register(
    Survey,
    list_display=["call_sid", "channel", "agent", "score", "resolved", "sent_at", "answered_at"],
    list_filter=["channel", "score"],
    raw_id_fields=["call", "agent", "customer"],
)
