"""Scorecard editing in the admin: drafts are editable; a published or retired version is
read-only (the action "Edit as a new version" copies it into a new draft)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from qa.models import (
    CalibrationSession,
    CoachingPlan,
    CoachingTask,
    Dispute,
    Evaluation,
    EvaluationEvent,
    SampleRun,
    SamplingPolicy,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
)
from qa.services.scorecards import scorecard_new_version, scorecard_publish


class DraftOnly:
    """Inline/admin mixin: change only while the scorecard is a draft."""

    def _scorecard(self, obj):
        if obj is None:
            return None
        if isinstance(obj, Scorecard):
            return obj
        if isinstance(obj, ScorecardSection):
            return obj.scorecard
        return obj.section.scorecard

    def has_change_permission(self, request, obj=None):
        card = self._scorecard(obj)
        if card is not None and not card.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        card = self._scorecard(obj)
        if card is not None and not card.is_editable:
            return False
        # An inline's takes the parent object (None on the add page); a ModelAdmin's does not.
        if isinstance(self, admin.options.InlineModelAdmin):
            return super().has_add_permission(request, obj)
        return super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        card = self._scorecard(obj)
        if card is not None and not card.is_editable:
            return False
        return super().has_delete_permission(request, obj)


class SectionInline(DraftOnly, admin.TabularInline):
    model = ScorecardSection
    extra = 0
    show_change_link = True
    fields = ["title", "weight", "position"]


class ItemInline(DraftOnly, admin.TabularInline):
    model = ScorecardItem
    extra = 1
    fields = [
        "text",
        "kind",
        "max_points",
        "weight",
        "allow_na",
        "auto_fail",
        "bonus",
        "compliance",
        "position",
    ]


@admin.register(Scorecard)
class ScorecardAdmin(DraftOnly, admin.ModelAdmin):
    list_display = ["name", "version", "family", "department", "queue", "status", "published_at"]
    list_filter = ["status", "department"]
    inlines = [SectionInline]
    fields = ["family", "name", "description", "department", "queue", "auto_fail_mode"]
    actions = ["publish", "new_version"]

    def has_add_permission(self, request, obj=None):
        return admin.ModelAdmin.has_add_permission(self, request)

    def save_model(self, request, obj, form, change):
        if not change:
            last = Scorecard.objects.filter(family=obj.family).order_by("-version").first()
            obj.version = last.version + 1 if last else 1
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Publish the selected drafts"))
    def publish(self, request, queryset):
        for card in queryset:
            try:
                scorecard_publish(scorecard=card, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{card}: {' '.join(exc.messages)}", messages.ERROR)

    @admin.action(description=_("Edit as a new version (copy into a draft)"))
    def new_version(self, request, queryset):
        for card in queryset:
            new = scorecard_new_version(scorecard=card, actor=request.user)
            self.message_user(request, _("Draft %(card)s is ready to edit.") % {"card": new})


@admin.register(ScorecardSection)
class ScorecardSectionAdmin(DraftOnly, admin.ModelAdmin):
    list_display = ["title", "scorecard", "weight", "position"]
    inlines = [ItemInline]

    def get_model_perms(self, request):
        return {}  # reached from the scorecard's sections, not the index


@admin.register(SamplingPolicy)
class SamplingPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "department",
        "calls_per_agent",
        "targeted_per_agent",
        "long_handle_seconds",
        "due_days",
    ]


@admin.register(SampleRun)
class SampleRunAdmin(admin.ModelAdmin):
    list_display = ["month", "department", "status", "done", "total", "created", "started_at"]
    readonly_fields = [f.name for f in SampleRun._meta.fields]


class EventInline(admin.TabularInline):
    model = EvaluationEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "kind", "score_before", "score_after", "note"]
    fields = readonly_fields


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["pk", "agent", "evaluator", "status", "score", "month", "reason"]
    list_filter = ["status", "reason", "month"]
    raw_id_fields = ["call", "agent", "evaluator", "sample_run", "calibration", "team"]
    readonly_fields = ["score", "compliance_score", "auto_failed"]
    inlines = [EventInline]


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = ["evaluation", "raised_by", "reviewer", "status", "raised_at"]
    raw_id_fields = ["evaluation", "raised_by", "reviewer"]


class TaskInline(admin.TabularInline):
    model = CoachingTask
    extra = 0


@admin.register(CoachingPlan)
class CoachingPlanAdmin(admin.ModelAdmin):
    list_display = ["agent", "coach", "due_date", "status"]
    raw_id_fields = ["agent", "coach", "evaluation"]
    inlines = [TaskInline]


@admin.register(CalibrationSession)
class CalibrationSessionAdmin(admin.ModelAdmin):
    list_display = ["title", "facilitator", "created_at", "revealed_at"]
    raw_id_fields = ["call", "scorecard", "facilitator"]
