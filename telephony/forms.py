"""Validation of Twilio's webhook bodies: anything malformed is a 400, never a 500."""

from django import forms

from telephony.models import TWILIO_STATUSES

CALL_SID = r"^CA[0-9a-fA-F]{32}$"
RECORDING_SID = r"^RE[0-9a-fA-F]{32}$"


class IncomingCallForm(forms.Form):
    CallSid = forms.RegexField(regex=CALL_SID)
    From = forms.CharField(max_length=32)
    To = forms.CharField(max_length=32)
    CallStatus = forms.ChoiceField(
        choices=[(s, s) for s in sorted(TWILIO_STATUSES)], required=False
    )
    Direction = forms.CharField(max_length=20, required=False)


class CallStatusForm(forms.Form):
    CallSid = forms.RegexField(regex=CALL_SID)
    CallStatus = forms.ChoiceField(choices=[(s, s) for s in sorted(TWILIO_STATUSES)])
    SequenceNumber = forms.IntegerField(min_value=0, required=False)
    CallDuration = forms.IntegerField(min_value=0, required=False)


class QueueResultForm(forms.Form):
    CallSid = forms.RegexField(regex=CALL_SID)
    QueueResult = forms.CharField(max_length=40)
    QueueTime = forms.IntegerField(min_value=0, required=False)


class QueueWaitForm(forms.Form):
    CallSid = forms.RegexField(regex=CALL_SID)
    QueuePosition = forms.IntegerField(min_value=0, required=False)
    QueueTime = forms.IntegerField(min_value=0, required=False)


class RecordingForm(forms.Form):
    CallSid = forms.RegexField(regex=CALL_SID)
    RecordingSid = forms.RegexField(regex=RECORDING_SID)
    RecordingUrl = forms.URLField(max_length=400, required=False, assume_scheme="https")
    RecordingStatus = forms.ChoiceField(
        choices=[(s, s) for s in ("in-progress", "completed", "absent", "failed")]
    )
    RecordingDuration = forms.IntegerField(min_value=-1, required=False)
