from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from agents.models import (
    AgentStateInterval,
    AgentStatus,
    ApprovalRequest,
    BreakSlot,
    Center,
    Department,
    Person,
    QueueMembership,
    Target,
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
    actions = ["password_reset_links", "two_factor_remove"]

    @admin.action(description=_("Reset password: issue a one-time link"), permissions=["change"])
    def password_reset_links(self, request, queryset):
        from agents.signin.services import password_reset_issue

        links = [
            (person, password_reset_issue(person=person, by=request.user)) for person in queryset
        ]
        return TemplateResponse(
            request,
            "admin/agents/person/reset_links.html",
            {**self.admin_site.each_context(request), "links": links},
        )

    @admin.action(
        description=_("Remove two-factor devices (enrol again at next sign-in)"),
        permissions=["change"],
    )
    def two_factor_remove(self, request, queryset):
        from agents.signin.services import two_factor_remove

        for person in queryset:
            two_factor_remove(person=person, by=request.user)
        self.message_user(
            request,
            _("Two-factor devices removed for %d people.") % len(queryset),
            messages.SUCCESS,
        )


admin.site.register(Center)
admin.site.register(Department, list_display=["name", "kind", "phone_number", "center"])
admin.site.register(Team, list_display=["name", "department"])
# Targets are set on the targets page (agents:targets), where the value is entered in the
# unit people say; here they are read-only history.
admin.site.register(
    Target,
    list_display=["metric", "center", "department", "team", "value", "effective_from", "set_by"],
    list_filter=["metric"],
    readonly_fields=[f.name for f in Target._meta.fields],
)
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
