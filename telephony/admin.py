from django.contrib import admin

from telephony.models import Call, CallEvent, Offer, Queue, SimulatorMessage


class CallEventInline(admin.TabularInline):
    model = CallEvent
    extra = 0
    readonly_fields = ["kind", "at", "actor", "data", "dedupe_key"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = [
        "sid",
        "from_number",
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


admin.site.register(
    Queue, list_display=["name", "department", "reservation_timeout_seconds", "wrapup_seconds"]
)
admin.site.register(Offer, list_display=["call", "agent", "status", "offered_at", "expires_at"])
admin.site.register(SimulatorMessage, list_display=["at", "direction", "call_sid", "action"])
