from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from agents.models import Person
from agents.reach import people_visible_to
from agents.roles import roles_that
from callcenter.pii import PII_MESSAGE, Finding, PiiBlocked, pii_guard, pii_list
from tickets.models import (
    Priority,
    Severity,
    TicketCategory,
    TicketStatus,
)
from tickets.selectors import own_numbers


class PiiGuardMixin:
    """The PII guard on a form (callcenter.pii.pii_guard): every field in PII_FIELDS is
    scanned in `clean()`. The first submit with findings comes back with them listed (and
    `pii_action=mask` set); saving again stores them masked, editing them out stores nothing.
    Nothing is silently stored. The service the view calls guards again and logs: it takes
    `pii_raw` (field -> text as written) and `pii_confirmed` (the writer saved again)."""

    PII_FIELDS: tuple[str, ...] = ()
    own_phone = ""

    def _pii_init(self, own_phone) -> None:
        self.own_phone = own_phone or ""
        self.pii_findings: list[tuple[str, Finding]] = []
        self.pii_raw: dict[str, str] = {}
        self.pii_confirmed = False
        self.fields["pii_action"] = forms.CharField(required=False, widget=forms.HiddenInput)

    def pii_list(self) -> list[dict]:
        return pii_list(self.pii_findings, {name: self.fields[name].label for name in self.fields})

    def pii_found(self) -> list[tuple[str, str, str]]:
        return [(field, f.kind, f.masked) for field, f in self.pii_findings]

    def pii_refused(self, exc: PiiBlocked) -> None:
        """Show what a service's guard refused, as the form's own check would have."""
        self.pii_findings = exc.findings
        self.data = self.data.copy()
        self.data["pii_action"] = "mask"
        self.add_error(None, ValidationError(PII_MESSAGE, code="pii"))

    def _pii_guard(self, data: dict) -> dict:
        self.pii_raw = {name: data.get(name) or "" for name in self.PII_FIELDS}
        self.pii_confirmed = data.get("pii_action") == "mask"
        try:
            guarded = pii_guard(
                self.pii_raw, confirmed=self.pii_confirmed, own_phone=self.own_phone
            )
        except PiiBlocked as exc:
            self.pii_findings = exc.findings
            self.data = self.data.copy()
            self.data["pii_action"] = "mask"
            raise ValidationError(PII_MESSAGE, code="pii") from exc
        self.pii_findings = guarded.findings
        for name in {field for field, _f in guarded.findings}:
            data[name] = guarded.texts[name]
        return data


PII_API_MESSAGE = _("Personal data found. Edit it out, or send pii_action=mask to save it masked.")


class PiiCheck:
    """The PII guard (callcenter.pii.pii_guard) on free text that does not come through a
    Django form (QA marks, comments, API bodies): `texts` maps a field to what was written
    and `labels` to how it is named on the page. `blocked` is True when something was found
    and the writer has not yet confirmed masking (`pii_action=mask`); otherwise `texts` is
    masked. Services take `raw` (as written) and `confirmed`, and guard again themselves.
    Has the `pii_list` and `non_field_errors` that tickets/_pii.html reads from a form."""

    non_field_errors = ()

    def __init__(self, texts: dict[str, str], *, labels=None, own_phone=(), action=""):
        self.labels = labels or {}
        self.raw = dict(texts)
        self.confirmed = action == "mask"
        # Scanned as if confirmed, so the masked texts are there to show; `blocked` says
        # whether the writer has confirmed.
        guarded = pii_guard(self.raw, confirmed=True, own_phone=own_phone)
        self.findings: list[tuple[str, Finding]] = guarded.findings
        self.blocked = bool(self.findings) and not self.confirmed
        self.texts = guarded.texts

    def pii_list(self) -> list[dict]:
        return pii_list(self.findings, self.labels)

    def pii_found(self) -> list[tuple[str, str, str]]:
        return [(field, f.kind, f.masked) for field, f in self.findings]


class PartialUpdateMixin:
    """An update form changes only the fields it was sent: a field left out of the POST (an
    htmx form carrying one field, an old page, a script) stays as it is, instead of reading
    as empty and wiping the record. A POST with none of them is an error. Fields that are
    sent are checked as usual (a sent required field may not be blank)."""

    UPDATE_FIELDS: tuple[str, ...] = ()

    def _partial_init(self) -> None:
        self.sent = (
            {n for n in self.UPDATE_FIELDS if self.add_prefix(n) in self.data}
            if self.is_bound
            else set(self.UPDATE_FIELDS)
        )
        for name in self.UPDATE_FIELDS:
            if name not in self.sent:
                self.fields[name].required = False

    def _partial_clean(self, data: dict) -> dict:
        if not self.sent:
            raise ValidationError(_("Nothing to change."), code="empty")
        return data

    def changes(self) -> dict:
        """The fields sent, free text as written (the service guards it: pii_confirmed)."""
        raw = getattr(self, "pii_raw", {})
        return {n: raw.get(n, self.cleaned_data[n]) for n in self.UPDATE_FIELDS if n in self.sent}


class SentCheckboxInput(forms.CheckboxInput):
    """A checkbox that tells "unticked" from "not in this form": the page sends a hidden
    `0` before the box (the last value wins), so an unticked box still arrives, and a POST
    without the name at all leaves the value as it is (None)."""

    def render(self, name, value, attrs=None, renderer=None):
        hidden = format_html('<input type="hidden" name="{}" value="0">', name)
        return hidden + super().render(name, value, attrs, renderer)

    def value_from_datadict(self, data, files, name):
        if name not in data:
            return None
        value = data.getlist(name)[-1] if hasattr(data, "getlist") else data[name]
        return str(value).strip().lower() in {"on", "true", "1"}


def _categories(department_id):
    return TicketCategory.objects.filter(department_id=department_id)


class TicketCreateForm(PiiGuardMixin, forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    category = forms.ModelChoiceField(
        queryset=TicketCategory.objects.none(), label=_("Category"), required=False
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial="normal")
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial="minor")
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, required=False
    )
    PII_FIELDS = ("subject", "note")

    def __init__(self, *args, customer, department_id, **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(own_numbers(customer))
        self.fields["category"].queryset = _categories(department_id)

    def clean(self):
        return self._pii_guard(super().clean())


class TicketUpdateForm(PartialUpdateMixin, PiiGuardMixin, forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[c for c in TicketStatus.choices if c[0] != TicketStatus.MERGED],
    )
    category = forms.ModelChoiceField(
        queryset=TicketCategory.objects.none(), label=_("Category"), required=False
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    assignee = forms.ModelChoiceField(queryset=None, label=_("Assignee"), required=False)
    PII_FIELDS = ("subject",)
    UPDATE_FIELDS = ("subject", "status", "category", "priority", "severity", "assignee")

    def __init__(self, *args, ticket, person, **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(own_numbers(ticket.customer))
        self.fields["category"].queryset = _categories(ticket.department_id)
        visible = people_visible_to(person).filter(role__in=roles_that("take_calls"))
        self.fields["assignee"].queryset = Person.objects.filter(
            Q(pk__in=visible.values("pk")) | Q(pk=person.pk) | Q(pk=ticket.assignee_id or 0)
        ).order_by("display_name")
        self._partial_init()

    def clean(self):
        return self._pii_guard(self._partial_clean(super().clean()))


class NoteForm(PiiGuardMixin, forms.Form):
    body = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    parent = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
    is_public = forms.BooleanField(label=_("Public update (the customer sees it)"), required=False)
    status = forms.ChoiceField(
        label=_("Then set status"),
        required=False,
        choices=[("", "—")] + [c for c in TicketStatus.choices if c[0] != TicketStatus.MERGED],
    )
    PII_FIELDS = ("body",)

    def __init__(self, *args, own_phone="", **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(own_phone)

    def clean(self):
        return self._pii_guard(super().clean())


class CustomerNoteForm(NoteForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["parent"]
        del self.fields["is_public"]
        del self.fields["status"]


class EscalateForm(PiiGuardMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for the team lead"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
    )
    PII_FIELDS = ("reason",)

    def __init__(self, *args, own_phone="", **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(own_phone)

    def clean(self):
        return self._pii_guard(super().clean())


class TicketMergeForm(forms.Form):
    target = forms.CharField(label=_("Merge into ticket number"), max_length=12)

    def clean_target(self):
        value = self.cleaned_data["target"].strip().upper().removeprefix("T-")
        if not (value.isascii() and value.isdigit()):
            raise ValidationError(_("Write a ticket number like T-000123."))
        return int(value)


class CustomerMergeForm(forms.Form):
    target = forms.CharField(label=_("Merge into customer number"), max_length=12)

    def clean_target(self):
        value = self.cleaned_data["target"].strip().upper().removeprefix("C-")
        if not (value.isascii() and value.isdigit()):
            raise ValidationError(_("Write a customer number like C-000123."))
        return int(value)


class CustomerForm(PiiGuardMixin, PartialUpdateMixin, forms.Form):
    """Edit a customer; only the fields sent change (see PartialUpdateMixin). The e-mail is
    never put into the page unmasked (showing it is the audited Show button): empty keeps
    it, a new address replaces it, or it is removed. A name on file is not emptied here.
    The name is free text like any other: the PII guard reads it."""

    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    email = forms.EmailField(
        label=_("New e-mail"),
        required=False,
        widget=forms.EmailInput(
            attrs={"placeholder": _("Leave empty to keep the current e-mail.")}
        ),
    )
    remove_email = forms.BooleanField(label=_("Remove the e-mail"), required=False)
    is_vip = forms.NullBooleanField(label=_("VIP"), required=False, widget=SentCheckboxInput)
    UPDATE_FIELDS = ("name", "email", "remove_email", "is_vip")
    PII_FIELDS = ("name",)

    def __init__(self, *args, customer=None, own_phone=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self._partial_init()
        self._pii_init(own_phone)

    def clean(self):
        data = self._partial_clean(super().clean())
        if data.get("email") and data.get("remove_email"):
            raise ValidationError(_("Either give a new e-mail or remove it, not both."))
        if "name" in self.sent and not (data.get("name") or "").strip():
            if self.customer is not None and self.customer.name:
                self.add_error("name", _("A customer's name cannot be emptied."))
        return self._pii_guard(data)

    def changes(self) -> dict:
        """What to change, for services.customer_update: left-out fields are not in it."""
        sent, data, out = self.sent, self.cleaned_data, {}
        if "name" in sent and (data.get("name") or "").strip():
            out["name"] = self.pii_raw.get(
                "name", data["name"]
            )  # as written: the service guards it
        if "is_vip" in sent and data.get("is_vip") is not None:
            out["is_vip"] = data["is_vip"]
        if data.get("remove_email"):
            out["email"] = ""
        elif data.get("email"):
            out["email"] = data["email"]
        return out


class PhoneAddForm(PiiGuardMixin, forms.Form):
    phone = forms.CharField(label=_("Phone"), max_length=32)
    label = forms.CharField(label=_("Label"), max_length=40, required=False)
    PII_FIELDS = ("label",)

    def __init__(self, *args, own_phone=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(own_phone)

    def clean(self):
        return self._pii_guard(super().clean())


class FollowUpForm(PiiGuardMixin, forms.Form):
    due_at = forms.DateTimeField(
        label=_("Call back at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    note = forms.CharField(label=_("What to do"), max_length=300, required=False)
    PII_FIELDS = ("note",)

    def __init__(self, *args, own_phone=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(own_phone)

    def clean(self):
        return self._pii_guard(super().clean())


class TicketSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), ("active", _("Not resolved"))] + list(TicketStatus.choices),
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("Any priority"))] + list(Priority.choices),
    )
    sla = forms.ChoiceField(
        label=_("SLA"),
        required=False,
        choices=[
            ("", _("Any SLA")),
            ("warning", _("Breach soon")),
            ("breached", _("Breached")),
            ("paused", _("Paused")),
        ],
    )
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    team = forms.BooleanField(label=_("My team"), required=False)
    category = forms.ModelChoiceField(
        queryset=TicketCategory.objects.all(),
        label=_("Category"),
        required=False,
        empty_label=_("Any category"),
    )

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": _("Number, phone, name or text"), "autofocus": True}
        )
        categories = TicketCategory.objects.select_related("department")
        if person.team_id:
            categories = categories.filter(department_id=person.department_id)
        self.fields["category"].queryset = categories


class SavedViewForm(PiiGuardMixin, forms.Form):
    name = forms.CharField(
        label=_("Save this search as"),
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": _("Name of this search")}),
    )
    PII_FIELDS = ("name",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pii_init(())

    def clean(self):
        return self._pii_guard(super().clean())


class StatusLookupForm(forms.Form):
    ticket_number = forms.CharField(label=_("Case number"), max_length=12)
    phone = forms.CharField(label=_("Phone number on file"), max_length=32)


class StatusCodeForm(forms.Form):
    code = forms.CharField(label=_("Code from the text message"), max_length=6, min_length=6)
