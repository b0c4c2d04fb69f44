from django.contrib import admin

from tickets.models import Customer, Disposition, PiiDetection, Ticket, TicketEvent, TicketNote


class NoteInline(admin.TabularInline):
    model = TicketNote
    extra = 0
    raw_id_fields = ["call", "author"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "customer", "status", "department", "assignee", "updated_at"]
    list_filter = ["status", "department"]
    search_fields = ["subject", "customer__phone", "customer__name"]
    raw_id_fields = ["customer", "assignee"]
    inlines = [NoteInline]


admin.site.register(
    Customer, list_display=["name", "phone", "email"], search_fields=["name", "phone"]
)
admin.site.register(Disposition, list_display=["label", "code", "department", "resolves"])
admin.site.register(
    TicketEvent, list_display=["ticket", "kind", "field", "old_value", "new_value", "actor", "at"]
)


@admin.register(PiiDetection)
class PiiDetectionAdmin(admin.ModelAdmin):
    list_display = ["at", "agent", "kind", "field", "masked", "ticket"]
    list_filter = ["kind", "field"]
    raw_id_fields = ["agent", "call", "ticket"]
