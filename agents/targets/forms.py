"""The targets page's form: values in the units people say (85 % · 5:30 · 12 calls a day),
stored in the one convention (0.85 · 330 s · 12)."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from agents.models import TARGET_UNITS, TargetMetric, TargetUnit
from agents.targets.selectors import TargetUnitRef
from callcenter.clock import format_mss
from callcenter.inputs import BUSINESS_YEARS, parse_month

MIN_YEAR, MAX_YEAR = BUSINESS_YEARS
MAX_CALLS_A_DAY = 1000
MAX_SECONDS = 59 * 60 + 59
_PERCENT = re.compile(r"(\d{1,3}(?:[.,]\d{1,2})?)\s*%?", re.ASCII)
_MMSS = re.compile(r"(\d{1,2}):([0-5]\d)", re.ASCII)
_WHOLE = re.compile(r"\d{1,6}", re.ASCII)


def format_target(metric: str, value: float | None) -> str:
    """The stored value as people say it."""
    if value is None:
        return "–"
    unit = TARGET_UNITS[metric]
    if unit == TargetUnit.RATE:
        return f"{value * 100:.1f}".removesuffix(".0") + " %"
    if unit == TargetUnit.SECONDS:
        return format_mss(value)
    return f"{round(value)}"


def parse_target(metric: str, raw: str) -> float:
    """The typed value in the stored convention; ValidationError naming the unit expected."""
    raw = (raw or "").strip()
    unit = TARGET_UNITS[metric]
    if unit == TargetUnit.RATE:
        match = _PERCENT.fullmatch(raw)
        percent = float(match.group(1).replace(",", ".")) if match else None
        if percent is None or not 0 < percent <= 100:
            raise forms.ValidationError(
                _("Give a percentage between 0 and 100, e.g. 85 or 85 %."), code="rate"
            )
        return round(percent / 100, 4)
    if unit == TargetUnit.SECONDS:
        match = _MMSS.fullmatch(raw)
        seconds = int(match.group(1)) * 60 + int(match.group(2)) if match else None
        if seconds is None and _WHOLE.fullmatch(raw):
            seconds = int(raw)
        if seconds is None or not 0 < seconds <= MAX_SECONDS:
            raise forms.ValidationError(
                _("Give a duration as minutes:seconds, e.g. 5:30 (at most 59:59)."),
                code="seconds",
            )
        return float(seconds)
    if not _WHOLE.fullmatch(raw) or not 0 < int(raw) <= MAX_CALLS_A_DAY:
        raise forms.ValidationError(
            _("Give whole calls a day, from 1 to %(max)d.") % {"max": MAX_CALLS_A_DAY},
            code="count",
        )
    return float(int(raw))


class TargetForm(forms.Form):
    # Not a ChoiceField: a unit outside the person's reach is the service's 404, not a form
    # error that would tell another department's units apart from ones that do not exist.
    unit = forms.CharField(label=_("For"), max_length=40, widget=forms.Select)
    metric = forms.ChoiceField(label=_("Metric"), choices=TargetMetric.choices)
    value = forms.CharField(
        label=_("Target"),
        max_length=12,
        required=False,
        help_text=_("% for rates, mm:ss for AHT, calls a day for the call count"),
    )
    inherit = forms.BooleanField(
        label=_("No own target from this month (use the department's or center's)"),
        required=False,
    )
    month = forms.CharField(
        label=_("From month"), widget=forms.TextInput(attrs={"type": "month"}), max_length=7
    )

    def __init__(self, *args, units: list[TargetUnitRef], this_month: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.this_month = this_month
        self.fields["unit"].widget.choices = [
            (u.key, ("\u00a0\u00a0" * u.depth) + u.label) for u in units
        ]
        self.fields["value"].widget.attrs.update(
            {"placeholder": "85 % · 5:30 · 12", "autocomplete": "off", "inputmode": "decimal"}
        )

    def clean_month(self) -> date:
        month = parse_month(self.cleaned_data["month"], years=BUSINESS_YEARS)
        if month is None:
            raise forms.ValidationError(
                _("Give the month as YYYY-MM, between %(lo)d and %(hi)d.")
                % {"lo": MIN_YEAR, "hi": MAX_YEAR},
                code="month",
            )
        if month < self.this_month:
            raise forms.ValidationError(
                _("A past month keeps the target it had: choose this month or a later one."),
                code="past",
            )
        return month

    def clean(self):
        data = super().clean()
        metric = data.get("metric")
        if data.get("inherit"):
            data["value"] = None
        elif metric and "value" in data:
            try:
                data["value"] = parse_target(metric, data["value"])
            except forms.ValidationError as exc:
                self.add_error("value", exc)
        return data
