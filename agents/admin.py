from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from agents.forms import PersonForm
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
from agents.services import people


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
    # Org fields the change form saves through agents.services.people.person_update.
    ORG_FIELDS = ("display_name", "role", "team", "reports_to", "employee_no")

    def get_urls(self):
        return [
            path(
                "<int:person_id>/sign-in-link/",
                self.admin_site.admin_view(self.signin_link_view),
                name="agents_person_signin_link",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """The roster's person form (agents.forms.PersonForm) instead of the user-creation
        form, which had no team (an agent without one broke the database's rule: a 500) and
        asked for a password the admin would then know. The new person chooses their
        password with a one-time link, issued on the next page."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PersonForm(request.POST or None, editor=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                person = people.person_create(by=request.user, **form.service_kwargs())
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                self.log_addition(request, person, [{"added": {}}])
                return redirect("admin:agents_person_signin_link", person.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Add person"),
            "form": form,
            **(extra_context or {}),
        }
        status = 422 if request.method == "POST" else 200
        return TemplateResponse(request, "admin/agents/person/add.html", context, status=status)

    def signin_link_view(self, request, person_id: int):
        """After adding someone: issue their one-time link (a POST) and show it once."""
        person = get_object_or_404(Person, pk=person_id)
        if not self.has_change_permission(request, person):
            raise PermissionDenied
        if request.method == "POST":
            from agents.signin.services import password_reset_issue

            link = password_reset_issue(person=person, by=request.user)
            return TemplateResponse(
                request,
                "admin/agents/person/reset_links.html",
                {**self.admin_site.each_context(request), "links": [(person, link)]},
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Sign-in link"),
            "person": person,
            "has_password": person.has_usable_password(),
        }
        return TemplateResponse(request, "admin/agents/person/signin_link.html", context)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None:
            return form
        editor = request.user

        class OrgCheckedForm(form):
            """The roster's rules on the change form too: field errors, never a 500."""

            def clean(self):
                data = super().clean()
                stored = Person.objects.get(pk=self.instance.pk)
                role, team = data.get("role", stored.role), data.get("team")
                try:
                    people.person_check(
                        by=editor,
                        person=stored,
                        username=stored.username,
                        role=role,
                        team=team,
                        reports_to=people.person_supervisor_resolve(
                            person=stored, role=role, team=team, reports_to=data.get("reports_to")
                        ),
                        employee_no=(data.get("employee_no") or "").strip(),
                    )
                except ValidationError as exc:
                    for field, errors in exc.error_dict.items():
                        self.add_error(field if field in self.fields else None, errors)
                return data

        return OrgCheckedForm

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # Everything but the org fields as the admin saves it; those through the service,
        # which moves the supervisor along with the team.
        stored = Person.objects.get(pk=obj.pk)
        wanted = {f: getattr(obj, f) for f in self.ORG_FIELDS}
        for f in self.ORG_FIELDS:
            setattr(obj, f, getattr(stored, f))
        super().save_model(request, obj, form, change)
        updated = people.person_update(by=request.user, person_id=obj.pk, **wanted)
        for f in (*self.ORG_FIELDS, "center_id"):
            setattr(obj, f, getattr(updated, f))

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
