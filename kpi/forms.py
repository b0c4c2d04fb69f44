"""KPI filters: a date range and a department / team / queue, offered only within what the
viewer may see (agents.reach)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agents.models import Person
from agents.reach import departments_visible_to, teams_visible_to
from callcenter.clock import day_bounds
from telephony.models import Queue

MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class KpiFilters:
    first_day: date
    last_day: date  # inclusive
    department_id: int | None = None
    team_id: int | None = None
    queue_id: int | None = None

    @property
    def start(self) -> datetime:
        return day_bounds(self.first_day)[0]

    @property
    def end(self) -> datetime:
        return day_bounds(self.last_day)[1]

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def query(self) -> str:
        parts = [f"start={self.first_day:%Y-%m-%d}", f"end={self.last_day:%Y-%m-%d}"]
        for name in ("department", "team", "queue"):
            value = getattr(self, f"{name}_id")
            if value:
                parts.append(f"{name}={value}")
        return "&".join(parts)


class KpiFilterForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput({"type": "date"}))
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=None, required=False, empty_label=_("All")
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=None, required=False, empty_label=_("All")
    )
    queue = forms.ModelChoiceField(
        label=_("Queue"), queryset=None, required=False, empty_label=_("All")
    )

    def __init__(self, person: Person, *args, **kwargs):
        super().__init__(*args, **kwargs)
        departments = departments_visible_to(person)
        self.fields["department"].queryset = departments
        self.fields["team"].queryset = teams_visible_to(person)
        self.fields["queue"].queryset = Queue.objects.filter(department__in=departments)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        start = data.get("start") or data.get("end") or today
        end = data.get("end") or start
        if end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        if end - start > timedelta(days=MAX_RANGE_DAYS):
            raise forms.ValidationError(
                _("Choose at most %(days)d days.") % {"days": MAX_RANGE_DAYS}
            )
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> KpiFilters:
        data = self.cleaned_data
        return KpiFilters(
            first_day=data["start"],
            last_day=data["end"],
            department_id=data["department"].pk if data.get("department") else None,
            team_id=data["team"].pk if data.get("team") else None,
            queue_id=data["queue"].pk if data.get("queue") else None,
        )


class DrillForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(k, k) for k in ("agent", "team", "department", "queue", "center")]
    )
    id = forms.IntegerField(min_value=1)
    metric = forms.ChoiceField(
        choices=[
            (m, m)
            for m in (
                "offered",
                "answered",
                "abandoned",
                "handled",
                "transferred",
                "escalated",
                "main_task",
                "fcr",
                "csat",
                "pii",
            )
        ]
    )
    start = forms.DateField()
    end = forms.DateField()
    page = forms.IntegerField(min_value=1, required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(_("The end date is before the start date."))
        return data
