from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from callcenter.pii import PII_KINDS
from tickets.models import (
    BusinessHours,
    CallScript,
    CannedResponse,
    Customer,
    CustomerNote,
    CustomerPhone,
    Disposition,
    FollowUpTask,
    Holiday,
    IdentifierView,
    PiiDetection,
    SlaPolicy,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketNote,
)
from tickets.templatetags.phone import email_masked, phone_masked


class NoteInline(admin.TabularInline):
    model = TicketNote
    extra = 0
    raw_id_fields = ["call", "author"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "subject",
        "customer",
        "status",
        "priority",
        "sla_state",
        "department",
        "assignee",
        "updated_at",
    ]
    list_filter = ["status", "priority", "sla_state", "department"]
    search_fields = ["subject", "customer__phone", "customer__name"]
    raw_id_fields = ["customer", "assignee", "merged_into"]
    inlines = [NoteInline]


class PhoneInline(admin.TabularInline):
    model = CustomerPhone
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "phone_masked", "email_masked", "is_vip", "merged_into"]
    search_fields = ["name", "phone", "phones__number"]
    raw_id_fields = ["merged_into"]
    inlines = [PhoneInline]

    @admin.display(description=_("phone"), ordering="phone")
    def phone_masked(self, obj) -> str:
        return phone_masked(obj.phone)

    @admin.display(description=_("e-mail"), ordering="email")
    def email_masked(self, obj) -> str:
        return email_masked(obj.email)


admin.site.register(Disposition, list_display=["label", "code", "department", "resolves"])


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ["at", "ticket", "what", "actor"]
    list_filter = ["kind"]
    raw_id_fields = ["ticket", "actor"]

    @admin.display(description=_("event"), ordering="kind")
    def what(self, obj: TicketEvent) -> str:
        # The same sentence the ticket's history shows (translated), not the raw kind.
        return render_to_string("tickets/_event.html", {"e": obj})


# Which form field the PII guard found something in (PiiDetection.field).
PII_FIELD_LABELS = {
    "note": _("Note"),
    "body": _("Note"),
    "subject": _("Subject"),
    "followup_note": _("Follow-up: what to do"),
    "reason": _("Reason"),
}


@admin.register(PiiDetection)
class PiiDetectionAdmin(admin.ModelAdmin):
    list_display = ["at", "agent", "kind_label", "field_label", "masked", "ticket"]
    list_filter = ["kind", "field"]
    raw_id_fields = ["agent", "call", "ticket"]

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, obj: PiiDetection) -> str:
        return PII_KINDS.get(obj.kind, obj.kind)

    @admin.display(description=_("field"), ordering="field")
    def field_label(self, obj: PiiDetection) -> str:
        return PII_FIELD_LABELS.get(obj.field, obj.field)


admin.site.register(TicketCategory, list_display=["name", "department"], list_filter=["department"])
admin.site.register(
    SlaPolicy,
    list_display=[
        "center",
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "warn_before_minutes",
    ],
)
admin.site.register(BusinessHours, list_display=["center", "weekday", "opens", "closes"])


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "center"]
    list_filter = ["center"]
    date_hierarchy = "date"


admin.site.register(CannedResponse, list_display=["title", "department", "category"])
admin.site.register(CallScript, list_display=["title", "department", "category"])
admin.site.register(
    FollowUpTask,
    list_display=["due_at", "assignee", "customer", "ticket", "reminded_at", "done_at"],
    raw_id_fields=["customer", "ticket", "assignee", "created_by"],
)
admin.site.register(
    CustomerNote,
    list_display=["created_at", "customer", "author", "is_system"],
    raw_id_fields=["customer", "author"],
)


@admin.register(IdentifierView)
class IdentifierViewAdmin(admin.ModelAdmin):
    """The audit of who looked at a customer's unmasked number or e-mail: read-only."""

    list_display = ["at", "viewer", "customer", "field"]
    list_filter = ["field"]
    raw_id_fields = ["viewer", "customer"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
