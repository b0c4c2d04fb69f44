from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tickets.models import Disposition
from tickets.selectors import customer_tickets_for


class WrapupForm(forms.Form):
    """후처리: disposition, note, and the ticket it lands on (existing or new)."""

    disposition = forms.ModelChoiceField(
        queryset=Disposition.objects.none(), label=_("Disposition")
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    ticket = forms.ChoiceField(label=_("Ticket"), required=False)
    subject = forms.CharField(label=_("Subject of the new ticket"), max_length=200, required=False)
    resolve = forms.BooleanField(label=_("Resolved on this call"), required=False, initial=True)

    def __init__(self, *args, call, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["disposition"].queryset = Disposition.objects.filter(
            department_id=call.department_id
        )
        choices = [("", _("New ticket"))]
        if call.customer_id:
            choices += [
                (str(t.pk), f"{t.number} · {t.subject} ({t.get_status_display()})")
                for t in customer_tickets_for(person, call.customer)[:20]
            ]
        self.fields["ticket"].choices = choices

    def clean(self):
        data = super().clean()
        if not data.get("ticket") and not (data.get("subject") or "").strip():
            raise ValidationError(_("Give the new ticket a subject, or choose an existing ticket."))
        return data
