"""The desk's forms: the wrap-up (후처리) and the notepad during the call (상담 메모), an
agent's requests to their 실장 and the 실장's answer. They show what the PII guard finds;
the services store text masked."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tickets.forms import PiiGuardMixin, own_numbers
from tickets.models import Disposition, Priority, TicketCategory, TicketStatus
from tickets.selectors import customer_tickets_for


class DispositionSelect(forms.Select):
    """Each option says whether its disposition resolves the ticket (`data-resolves`), so
    the desktop defaults the "resolved on this call" box from the chosen disposition."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-resolves"] = "1" if instance.resolves else "0"
        return option


class WrapupForm(PiiGuardMixin, forms.Form):
    """후처리: disposition, note, and the ticket it lands on (existing or new)."""

    disposition = forms.ModelChoiceField(
        queryset=Disposition.objects.none(), label=_("Disposition"), widget=DispositionSelect
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    ticket = forms.ChoiceField(label=_("Ticket"), required=False)
    subject = forms.CharField(label=_("Subject of the new ticket"), max_length=200, required=False)
    category = forms.ModelChoiceField(
        queryset=TicketCategory.objects.none(), label=_("Category"), required=False
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL, required=False
    )
    # Unticked until a disposition is chosen: then it follows the disposition's `resolves`
    # for a new ticket, and stays unticked for an existing ticket (the agent decides).
    resolve = forms.BooleanField(label=_("Resolved on this call"), required=False)
    followup_at = forms.DateTimeField(
        label=_("Follow-up call at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    followup_note = forms.CharField(
        label=_("Follow-up: what to do"), max_length=300, required=False
    )

    PII_FIELDS = ("note", "subject", "followup_note")

    def __init__(self, *args, call, person, **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(own_numbers(call.customer) | {call.from_number})
        self.fields["disposition"].queryset = Disposition.objects.filter(
            department_id=call.department_id
        )
        self.fields["category"].queryset = TicketCategory.objects.filter(
            department_id=call.department_id
        )
        choices = [("", _("New ticket"))]
        if call.customer_id:
            choices += [
                (str(t.pk), f"{t.number} · {t.subject} ({t.get_status_display()})")
                for t in customer_tickets_for(person, call.customer)
                .exclude(status=TicketStatus.MERGED)
                .select_related(None)[:20]
            ]
        self.fields["ticket"].choices = choices
        if not self.is_bound and (call.notepad or call.notepad_disposition_id):
            # What the agent noted during the call (상담 메모) starts the wrap-up.
            drafted = call.notepad_disposition
            self.initial.setdefault("note", call.notepad)
            self.initial.setdefault("disposition", call.notepad_disposition_id)
            self.initial.setdefault("resolve", bool(drafted and drafted.resolves))

    def clean(self):
        data = super().clean()
        if not data.get("ticket") and not (data.get("subject") or "").strip():
            raise ValidationError(_("Give the new ticket a subject, or choose an existing ticket."))
        return self._pii_guard(data)


class CallNotepadForm(PiiGuardMixin, forms.Form):
    """상담 메모: the note and disposition the agent writes while talking, saved as they type
    and carried into the wrap-up. Nothing waits for a second submit here: what the guard
    finds is stored masked (the default choice) and listed beside the notepad, where the
    agent can still edit it out."""

    disposition = forms.ModelChoiceField(
        queryset=Disposition.objects.none(),
        label=_("Disposition"),
        widget=DispositionSelect,
        required=False,
    )
    note = forms.CharField(
        label=_("Call notes"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=4000,
        required=False,
    )
    PII_FIELDS = ("note",)

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(own_numbers(call.customer) | {call.from_number})
        self.fields["disposition"].queryset = Disposition.objects.filter(
            department_id=call.department_id
        )

    def clean(self):
        data = super().clean()
        data["pii_action"] = "mask"
        return self._pii_guard(data)


class ApprovalRequestForm(PiiGuardMixin, forms.Form):
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
        # The service guards the reason as written (tickets.approvals).
        data["reason"] = self.pii_raw["reason"]
        data["pii_confirmed"] = self.pii_confirmed
        return data


class DecisionForm(PiiGuardMixin, forms.Form):
    """The 실장's answer to a request, with an optional note the agent reads."""

    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("deny", _("Deny"))])
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    PII_FIELDS = ("note",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init("")

    def clean(self):
        return self._pii_guard(super().clean())
