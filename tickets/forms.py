from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tickets.models import Disposition
from tickets.pii import Finding, pii_mask, pii_scan
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
    # Set once the agent has seen the PII guard's findings: the next submit saves masked.
    pii_action = forms.CharField(required=False, widget=forms.HiddenInput)

    # Free-text fields the PII guard scans before anything is saved.
    PII_FIELDS = ("note", "subject")
    PII_KINDS = {
        "rrn": _("Resident registration number"),
        "card": _("Card number"),
        "phone": _("Phone number"),
        "email": _("E-mail address"),
    }

    def pii_list(self) -> list[dict]:
        """The findings as the agent sees them: which field, what kind, found and saved as."""
        return [
            {
                "field": self.fields[name].label,
                "kind": self.PII_KINDS.get(f.kind, f.kind),
                "text": f.text,
                "masked": f.masked,
            }
            for name, f in self.pii_findings
        ]

    def __init__(self, *args, call, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.own_phone = (call.customer.phone if call.customer_id else "") or call.from_number
        self.pii_findings: list[tuple[str, Finding]] = []
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
        self.pii_findings = [
            (name, finding)
            for name in self.PII_FIELDS
            for finding in pii_scan(data.get(name) or "", own_phone=self.own_phone)
        ]
        if not self.pii_findings:
            return data
        if data.get("pii_action") != "mask":
            # Never silently stored: the agent sees what was found first. The form comes
            # back with pii_action=mask set, so saving again (the default) masks it.
            self.data = self.data.copy()
            self.data["pii_action"] = "mask"
            raise ValidationError(
                _("Personal data found: it will be saved masked. Edit it out, or save again."),
                code="pii",
            )
        for name in self.PII_FIELDS:
            found = [f for field, f in self.pii_findings if field == name]
            if found:
                data[name] = pii_mask(data[name], found)
        return data
