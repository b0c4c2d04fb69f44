"""Validation of Twilio's webhook bodies: anything malformed is a 400, never a 500."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from agents.models import Department
from callcenter.inputs import IntegerField
from telephony.models import TWILIO_STATUSES, Call, Queue

CALL_SID = r"^CA[0-9a-fA-F]{32}$"
RECORDING_SID = r"^RE[0-9a-fA-F]{32}$"


class IncomingCallForm(forms.Form):
    """What an incoming call needs (Twilio sends more: CallStatus is always "ringing")."""

    CallSid = forms.RegexField(regex=CALL_SID)
    From = forms.CharField(max_length=32)
    To = forms.CharField(max_length=32)


def cleaned_fields(form_class: type[forms.Form], data) -> dict | None:
    """The cleaned_data `form_class(data)` would give, or None if anything is invalid (bind
    the form then, for its messages). For forms that validate field by field only; it
    skips the per-instance deep copy of every field a bound form makes, which costs more
    than the validation (the incoming-call webhook asks thousands of times a second)."""
    cleaned = {}
    for name, field in form_class.base_fields.items():
        try:
            cleaned[name] = field.clean(field.widget.value_from_datadict(data, {}, name))
        except ValidationError:
            return None
    return cleaned


def _field_by_field(form_class: type[forms.Form]) -> type[forms.Form]:
    own_clean = form_class.clean is not forms.Form.clean
    if own_clean or any(hasattr(form_class, f"clean_{n}") for n in form_class.base_fields):
        raise TypeError(f"{form_class.__name__} validates across fields: bind it instead")
    return form_class


_field_by_field(IncomingCallForm)


class CallStatusForm(forms.Form):
    CallSid = forms.RegexField(regex=CALL_SID)
    CallStatus = forms.ChoiceField(choices=[(s, s) for s in sorted(TWILIO_STATUSES)])
    SequenceNumber = IntegerField(min_value=0, required=False)
    CallDuration = IntegerField(min_value=0, required=False)


class QueueResultForm(forms.Form):
    CallSid = forms.RegexField(regex=CALL_SID)
    QueueResult = forms.CharField(max_length=40)
    QueueTime = IntegerField(min_value=0, required=False)


class QueueWaitForm(forms.Form):
    CallSid = forms.RegexField(regex=CALL_SID)
    QueuePosition = IntegerField(min_value=0, required=False)
    QueueTime = IntegerField(min_value=0, required=False)
    Digits = forms.RegexField(regex=r"^[0-9*#]{0,10}$", required=False)


class RecordingForm(forms.Form):
    # A conference recording carries ConferenceSid and no CallSid; its URL names the call.
    CallSid = forms.RegexField(regex=CALL_SID, required=False)
    RecordingSid = forms.RegexField(regex=RECORDING_SID)
    RecordingUrl = forms.URLField(max_length=400, required=False, assume_scheme="https")
    RecordingStatus = forms.ChoiceField(
        choices=[(s, s) for s in ("in-progress", "completed", "absent", "failed")]
    )
    RecordingDuration = IntegerField(min_value=-1, required=False)
    ErrorCode = forms.RegexField(regex=r"^[0-9]{1,6}$", required=False)


# --- IVR, voicemail and SMS ---------------------------------------------------------------

MESSAGE_SID = r"^(SM|MM)[0-9a-fA-F]{32}$"
IVR_LANGUAGES = [("ko", "ko"), ("en", "en")]


class IvrStateForm(forms.Form):
    """The Gather action's query string (`?menu=&lang=&try=&offer=`), signed with the URL."""

    menu = IntegerField(min_value=1)
    lang = forms.ChoiceField(choices=IVR_LANGUAGES)
    tries = IntegerField(min_value=0, max_value=20)
    offer = forms.ModelChoiceField(queryset=Queue.objects.all(), required=False)

    @classmethod
    def from_query(cls, query) -> "IvrStateForm":
        return cls(
            {
                "menu": query.get("menu"),
                "lang": query.get("lang"),
                "tries": query.get("try"),
                "offer": query.get("offer"),
            }
        )


class GatherForm(forms.Form):
    CallSid = forms.RegexField(regex=CALL_SID)
    From = forms.CharField(max_length=32)
    To = forms.CharField(max_length=32)
    Digits = forms.RegexField(regex=r"^[0-9*#]{0,20}$", required=False)
    SpeechResult = forms.CharField(max_length=500, required=False)


class VoicemailStateForm(forms.Form):
    """The Record action's query string: why the caller leaves a message, and for whom."""

    reason = forms.ChoiceField(choices=[(r, r) for r in ("closed", "full", "max_wait", "choice")])
    lang = forms.ChoiceField(choices=IVR_LANGUAGES, required=False)
    call = forms.ModelChoiceField(queryset=Call.objects.all(), required=False)
    department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False)


class VoicemailForm(forms.Form):
    """Both the Record action and its recordingStatusCallback post here."""

    CallSid = forms.RegexField(regex=CALL_SID)
    RecordingSid = forms.RegexField(regex=RECORDING_SID)
    RecordingUrl = forms.URLField(max_length=400, required=False, assume_scheme="https")
    RecordingStatus = forms.ChoiceField(
        choices=[(s, s) for s in ("in-progress", "completed", "absent", "failed")],
        required=False,
    )
    RecordingDuration = IntegerField(min_value=-1, required=False)
    From = forms.CharField(max_length=32, required=False)


class SmsIncomingForm(forms.Form):
    MessageSid = forms.RegexField(regex=MESSAGE_SID)
    From = forms.CharField(max_length=32)
    To = forms.CharField(max_length=32)
    Body = forms.CharField(max_length=1600, required=False, strip=False)


class ConferenceForm(forms.Form):
    ConferenceSid = forms.RegexField(regex=r"^CF[0-9a-fA-F]{32}$")
    FriendlyName = forms.RegexField(regex=r"^call-\d{1,18}$")
    StatusCallbackEvent = forms.CharField(max_length=40)
    CallSid = forms.RegexField(regex=CALL_SID, required=False)
    ParticipantLabel = forms.CharField(max_length=60, required=False)
    SequenceNumber = IntegerField(min_value=0, required=False)


DIAL_CALL_STATUSES = ("completed", "answered", "busy", "no-answer", "failed", "canceled")


class DialResultForm(forms.Form):
    CallSid = forms.RegexField(regex=CALL_SID)
    DialCallStatus = forms.ChoiceField(choices=[(s, s) for s in DIAL_CALL_STATUSES])


class TransferForm(forms.Form):
    """The desktop's transfer form: an agent or a queue, cold or warm."""

    to_agent = IntegerField(min_value=1, required=False)
    to_queue = IntegerField(min_value=1, required=False)
    warm = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("to_agent")) == bool(data.get("to_queue")):
            raise forms.ValidationError(_("Choose either an agent or a queue."))
        return data
