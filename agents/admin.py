from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from agents.models import (
    AgentStateInterval,
    AgentStatus,
    ApprovalRequest,
    BreakSlot,
    Center,
    Department,
    Person,
    QueueMembership,
    Team,
    WorkingHours,
)


class SkillInline(admin.TabularInline):
    model = QueueMembership
    extra = 0


@admin.register(Person)
class PersonAdmin(UserAdmin):
    list_display = ["username", "display_name", "role", "team", "reports_to", "is_active"]
    list_filter = ["role", "team__department", "is_active"]
    search_fields = ["username", "display_name", "employee_no"]
    fieldsets = [
        *UserAdmin.fieldsets,
        (
            "Sangdam",
            {
                "fields": [
                    "display_name",
                    "role",
                    "center",
                    "team",
                    "managed_departments",
                    "reports_to",
                    "employee_no",
                ]
            },
        ),
    ]
    inlines = [SkillInline]


admin.site.register(Center)
admin.site.register(Department, list_display=["name", "kind", "phone_number", "center"])
admin.site.register(Team, list_display=["name", "department", "daily_call_target"])
admin.site.register(
    AgentStatus, list_display=["person", "state", "reason", "since", "requested_state"]
)
admin.site.register(
    AgentStateInterval,
    list_display=["person", "state", "reason", "started_at", "ended_at"],
    list_filter=["state"],
)
admin.site.register(QueueMembership, list_display=["person", "queue", "proficiency"])


admin.site.register(
    ApprovalRequest,
    list_display=["created_at", "kind", "requester", "team", "status", "decided_by"],
    list_filter=["kind", "status"],
    raw_id_fields=["requester", "ticket", "decided_by"],
)
admin.site.register(WorkingHours, list_display=["person", "weekday", "starts", "ends"])
admin.site.register(BreakSlot, list_display=["person", "starts_at", "minutes", "reason", "set_by"])
