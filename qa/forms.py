from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agents.models import Person
from agents.reach import departments_visible_to, people_visible_to
from agents.roles import roles_that
from callcenter.clock import month_start
from callcenter.inputs import BUSINESS_YEARS
from qa.models import AssignMode, AutoFailMode, ComplianceTag, ItemKind, SampleReason, ScorecardItem
from qa.scoring import Mark
from qa.services.sampling import TARGETED_RULES
from telephony.models import Queue
from tickets.forms import PiiGuardMixin, SentCheckboxInput

MONTH_YEARS = BUSINESS_YEARS
REPORT_MAX_MONTHS = 24


class MonthField(forms.CharField):
    """`YYYY-MM` (what <input type=month> sends) → the month's first day, in 2000–2100."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            month = datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007
        except ValueError as exc:
            raise forms.ValidationError(_("Give the month as YYYY-MM.")) from exc
        if not MONTH_YEARS[0] <= month.year <= MONTH_YEARS[1]:
            raise forms.ValidationError(
                _("Give a month from %(first)d to %(last)d.")
                % {"first": MONTH_YEARS[0], "last": MONTH_YEARS[1]}
            )
        return month


def six_months_back(end):
    return end.replace(year=end.year - (end.month <= 5), month=(end.month - 6) % 12 + 1)


class ReportRangeForm(forms.Form):
    """The QA report's months (at most two years; by default the six up to this one) and
    grouping, from the query string."""

    start = MonthField(required=False)
    end = MonthField(required=False)
    group = forms.ChoiceField(
        required=False, choices=[("agent", "agent"), ("team", "team"), ("department", "d")]
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        end = data.get("end") or month_start()
        start = data.get("start") or six_months_back(end)
        if start > end:
            start, end = end, start
        span = (end.year - start.year) * 12 + end.month - start.month + 1
        if span > REPORT_MAX_MONTHS:
            raise forms.ValidationError(
                _("Choose at most %(n)d months.") % {"n": REPORT_MAX_MONTHS}
            )
        data.update(start=start, end=end, group=data.get("group") or "agent")
        return data


class SampleRunForm(forms.Form):
    month = MonthField(label=_("Month"), widget=forms.TextInput(attrs={"type": "month"}))
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=None, required=False, empty_label=_("Whole center")
    )
    rules = forms.MultipleChoiceField(
        label=_("Targeted rules"),
        required=False,
        choices=[(r.value, r.label) for r in SampleReason if r in TARGETED_RULES],
        widget=forms.CheckboxSelectMultiple,
    )
    assign_mode = forms.ChoiceField(label=_("Assign to"), choices=AssignMode.choices)
    seed = forms.IntegerField(
        label=_("Seed"),
        required=False,
        min_value=-(2**31),
        max_value=2**31 - 1,  # the column is a 32-bit integer
        help_text=_("Empty: the month (the same month gives the same sample)."),
    )

    def __init__(self, *args, person: Person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments_visible_to(person)
        if not self.is_bound:
            self.initial.setdefault("month", timezone.localdate().strftime("%Y-%m"))


class DisputeForm(PiiGuardMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why do you dispute this evaluation?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    PII_FIELDS = ("reason",)

    def __init__(self, *args, own_phone=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(own_phone)

    def clean(self):
        return self._pii_guard(super().clean())


class CoachingPlanForm(PiiGuardMixin, forms.Form):
    """A coaching plan: goals and tasks are free text, through the PII guard like every
    other text about calls (a coach quoting a customer's number is a leak too)."""

    goals = forms.CharField(label=_("Goals"), widget=forms.Textarea(attrs={"rows": 3}))
    tasks = forms.CharField(
        label=_("Tasks (one per line)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One task per line; add a due date at the end as YYYY-MM-DD if it has one."),
    )
    due_date = forms.DateField(label=_("Plan due"), widget=forms.DateInput(attrs={"type": "date"}))
    follow_up_date = forms.DateField(
        label=_("Follow-up evaluation by"), widget=forms.DateInput(attrs={"type": "date"})
    )
    PII_FIELDS = ("goals", "tasks")

    def __init__(self, *args, own_phone=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(own_phone)

    def clean(self):
        data = super().clean()
        # The tasks as written: the service guards (and masks) each task's text itself.
        written = data.get("tasks")
        data = self._pii_guard(data)
        if written is not None:
            data["tasks"] = self._task_lines(written)
        return data

    def _task_lines(self, text: str) -> list[tuple[str, object]]:
        tasks = []
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            due = None
            head, _sep, tail = line.rpartition(" ")
            if head and len(tail) == 10:
                try:
                    due = datetime.strptime(tail, "%Y-%m-%d").date()  # noqa: DTZ007
                    line = head.strip()
                except ValueError:
                    due = None
            tasks.append((line, due))
        if not tasks:
            self.add_error("tasks", _("Add at least one task."))
        return tasks


class CalibrationForm(PiiGuardMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    participants = forms.ModelMultipleChoiceField(
        label=_("Evaluators"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    PII_FIELDS = ("title",)

    def __init__(self, *args, person: Person, **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(())
        self.fields["participants"].queryset = (
            people_visible_to(person)
            .filter(role__in=roles_that("join_calibrations"))
            .exclude(pk=person.pk)
            .order_by("role", "display_name")
        )

    def clean(self):
        return self._pii_guard(super().clean())


def parse_marks(
    data, items: list[ScorecardItem]
) -> tuple[dict[int, Mark], dict[int, str], list[str]]:
    """The scorecard part of a POST: `item-<id>` = a number or `na`, `note-<id>` = text.
    Bad numbers come back as errors (a 400 with the form), never as a 500."""
    marks: dict[int, Mark] = {}
    notes: dict[int, str] = {}
    errors: list[str] = []
    for item in items:
        raw = (data.get(f"item-{item.pk}") or "").strip()
        notes[item.pk] = (data.get(f"note-{item.pk}") or "").strip()
        if raw == "":
            continue
        if raw == "na":
            marks[item.pk] = Mark(not_applicable=True)
            continue
        try:
            value = float(raw)
        except ValueError:
            errors.append(_("“%(item)s”: not a number.") % {"item": item.text})
            continue
        if value != value or value in (float("inf"), float("-inf")):  # NaN / inf
            errors.append(_("“%(item)s”: not a number.") % {"item": item.text})
            continue
        if item.kind == ItemKind.YES_NO and value == 1:
            value = item.max_points
        marks[item.pk] = Mark(value=value)
    return marks, notes, errors


class ScorecardNewForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    family = forms.SlugField(
        label=_("Key"), max_length=60, help_text=_("Letters, digits and hyphens; never changes.")
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=None, required=False, empty_label=_("Whole center")
    )

    def __init__(self, *args, person: Person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments_visible_to(person)


class ScorecardFieldsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, max_length=2000)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=None, required=False, empty_label=_("Whole center")
    )
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=None, required=False)
    auto_fail_mode = forms.ChoiceField(label=_("A failed critical item zeroes"), choices=())

    def __init__(self, *args, person: Person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments_visible_to(person)
        self.fields["queue"].queryset = Queue.objects.filter(
            department__in=departments_visible_to(person)
        )
        self.fields["auto_fail_mode"].choices = AutoFailMode.choices


class SectionRowForm(forms.Form):
    title = forms.CharField(label=_("Section"), max_length=120)
    weight = forms.FloatField(label=_("Weight"), min_value=0)
    position = forms.IntegerField(
        label=_("Sort order"), min_value=0, max_value=32767, initial=0, required=False
    )
    delete = forms.BooleanField(label=_("Delete"), required=False)


class ItemRowForm(forms.Form):
    text = forms.CharField(label=_("Criterion"), max_length=200)
    guidance = forms.CharField(label=_("Guidance"), max_length=2000, required=False)
    kind = forms.ChoiceField(label=_("Type"), choices=ItemKind.choices)
    max_points = forms.FloatField(label=_("Max"), min_value=0.5)
    weight = forms.FloatField(label=_("Weight"), min_value=0)
    # Unticked boxes still arrive (a hidden 0), so a row posted without them keeps them.
    allow_na = forms.NullBooleanField(
        label=_("N/A allowed"), required=False, widget=SentCheckboxInput
    )
    auto_fail = forms.NullBooleanField(
        label=_("Critical"), required=False, widget=SentCheckboxInput
    )
    bonus = forms.NullBooleanField(label=_("Bonus"), required=False, widget=SentCheckboxInput)
    compliance = forms.ChoiceField(label=_("Compliance"), choices=(), required=False)
    position = forms.IntegerField(
        label=_("Sort order"), min_value=0, max_value=32767, initial=0, required=False
    )
    delete = forms.BooleanField(label=_("Delete"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compliance"].choices = ComplianceTag.choices
