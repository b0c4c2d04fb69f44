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
