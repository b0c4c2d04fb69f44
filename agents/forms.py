from django import forms
from django.utils.translation import gettext_lazy as _

from agents.models import AgentState, NotReadyReason, Role


class StateForm(forms.Form):
    state = forms.ChoiceField(
        choices=[
            (s, s.label) for s in (AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE)
        ]
    )
    reason = forms.ChoiceField(choices=[("", "—"), *NotReadyReason.choices], required=False)

    def clean(self):
        data = super().clean()
        # The desktop sends its reason picker with every button; only Not ready uses it.
        if data.get("state") != AgentState.NOT_READY:
            data["reason"] = ""
        return data


class RosterFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    role = forms.ChoiceField(
        label=_("Role"), choices=[("", _("All roles")), *Role.choices], required=False
    )
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", _("All teams"))] + [(t.pk, str(t)) for t in teams]


WEEKDAYS = [
    (0, _("Mon")),
    (1, _("Tue")),
    (2, _("Wed")),
    (3, _("Thu")),
    (4, _("Fri")),
    (5, _("Sat")),
    (6, _("Sun")),
]


def _pii_mixin():
    from tickets.forms import PiiGuardMixin

    return PiiGuardMixin


class ApprovalRequestForm(_pii_mixin(), forms.Form):
    """What an agent asks their 실장 for (escalations are asked from the ticket)."""

    kind = forms.ChoiceField(
        label=_("Request"),
        choices=[
            ("refund", _("Refund")),
            ("exception", _("Exception")),
            ("break", _("Break")),
        ],
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    # The database column is a 32-bit integer: larger is a form error, not a 500.
    amount = forms.IntegerField(
        label=_("Amount (KRW)"), required=False, min_value=1, max_value=2**31 - 1
    )
    break_start = forms.DateTimeField(
        label=_("Break from"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    break_minutes = forms.IntegerField(
        label=_("Minutes"), required=False, min_value=5, max_value=120
    )
    PII_FIELDS = ("reason",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init("")

    def clean(self):
        data = self._pii_guard(super().clean())
        data.pop("pii_action", None)
        data["pii_found"] = self.pii_found()
        return data


class DecisionForm(_pii_mixin(), forms.Form):
    """The 실장's answer to a request, with an optional note the agent reads."""

    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("deny", _("Deny"))])
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    PII_FIELDS = ("note",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init("")

    def clean(self):
        return self._pii_guard(super().clean())


class WorkingHoursForm(forms.Form):
    person = forms.ModelChoiceField(queryset=None, label=_("Agent"))
    weekdays = forms.MultipleChoiceField(
        label=_("Days"), choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple
    )
    starts = forms.TimeField(label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label=_("Ends"), widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people


class BreakSlotForm(forms.Form):
    person = forms.ModelChoiceField(queryset=None, label=_("Agent"))
    starts_at = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    minutes = forms.IntegerField(label=_("Minutes"), min_value=5, max_value=120, initial=15)
    reason = forms.ChoiceField(label=_("Reason"), choices=NotReadyReason.choices)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
