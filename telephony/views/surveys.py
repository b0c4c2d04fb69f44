"""The post-call survey's Twilio webhook (signed like every Twilio endpoint): the opt-in
answer and each survey question's DTMF (telephony/services/surveys.py). Routed at
/telephony/voice/survey/."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from telephony.security import twilio_webhook
from telephony.services import surveys


class SurveyStepForm(forms.Form):
    step = forms.ChoiceField(choices=[(s, s) for s in ("optin", "start", "score", "resolved")])
    sid = forms.RegexField(regex=r"^CA[0-9a-fA-F]{32}$")
    lang = forms.ChoiceField(choices=[("ko", "ko"), ("en", "en")])
    t = forms.IntegerField(min_value=0, max_value=3)


class DigitsForm(forms.Form):
    Digits = forms.RegexField(regex=r"^[0-9*#]{0,4}$", required=False)


@twilio_webhook
def voice_survey(request: HttpRequest) -> HttpResponse:
    where = SurveyStepForm(request.GET)
    keys = DigitsForm(request.POST)
    if not where.is_valid() or not keys.is_valid():
        errors = {**where.errors, **keys.errors}
        return HttpResponseBadRequest(
            "\n".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), content_type="text/plain"
        )
    q = where.cleaned_data
    response = surveys.ivr_survey_response(
        step=q["step"],
        call_sid=q["sid"],
        lang=q["lang"],
        digits=keys.cleaned_data["Digits"] or "",
        tries=q["t"],
    )
    return HttpResponse(str(response), content_type="text/xml")
