"""Post-call satisfaction surveys (CSAT), by phone and by text message.

IVR: a caller who reaches a queue through the voice menu is asked once whether they will
answer a short survey (press 1). If they opted in, when the agent hangs up the caller's leg
is redirected to the survey instead of being hung up: 1–5 satisfaction, then "was it
resolved?" (1 yes, 2 no), by DTMF.

SMS: after a handled call whose caller did not opt in to the IVR survey, a text message asks
for 1–5 (swept by the periodic survey task, so nothing is lost if a worker is down). The reply
arrives at /telephony/sms/incoming/ (signed), is matched to the newest open survey sent to
that number and through it to the call and agent. A reply after CSAT_REPLY_HOURS or that is
not a number gets one polite clarifying message; nothing else is ever sent twice.

Everything here is idempotent: Twilio retries webhooks, and the sweep may run twice.
The answers are rows (telephony.models.Survey) that KPI's rollups and QA's sampling read.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import VoiceResponse

from telephony.models import Call, CallDirection, CallPhase, SmsMessage, Survey, SurveyChannel
from telephony.security import public_url

logger = logging.getLogger(__name__)

SAY_LANGUAGE = {"ko": "ko-KR", "en": "en-US"}
SMS_SWEEP_WINDOW = timedelta(hours=6)  # handled calls older than this are never asked
ENDED = {CallPhase.ABANDONED, CallPhase.COMPLETED, CallPhase.FAILED, CallPhase.VOICEMAIL}


def _say(node, text: str, lang: str) -> None:
    node.say(text, language=SAY_LANGUAGE.get(lang, "ko-KR"))


def survey_url(step: str, call_sid: str, lang: str, tries: int = 0) -> str:
    return public_url(
        reverse("telephony:voice-survey") + f"?step={step}&sid={call_sid}&lang={lang}&t={tries}"
    )


# --- IVR opt-in and survey -----------------------------------------------------------------


def optin_prompt(call: Call) -> VoiceResponse:
    """Before queueing a voice-menu caller: "press 1 to answer a short survey after the
    call". No key (or another key) goes on to the queue without a survey."""
    lang = call.language if call.language in SAY_LANGUAGE else "ko"
    response = VoiceResponse()
    action = survey_url("optin", call.sid, lang)
    with translation.override(lang):
        gather = response.gather(
            num_digits=1, timeout=4, action=action, method="POST", action_on_empty_result=True
        )
        _say(
            gather,
            _("After your call, would you answer a short survey? Press 1 for yes."),
            lang,
        )
    response.redirect(action, method="POST")
    return response


@transaction.atomic
def survey_ivr_opt_in(*, call_sid: str, digits: str, at: datetime | None = None) -> Survey | None:
    """The caller's answer to the opt-in question; "1" opts in. Idempotent per call."""
    if digits != "1":
        return None
    call = Call.objects.filter(sid=call_sid).order_by("-segment").first()
    if call is None:
        return None
    try:
        with transaction.atomic():
            survey, _created = Survey.objects.get_or_create(
                call_sid=call_sid,
                channel=SurveyChannel.IVR,
                defaults={
                    "call": call,
                    "customer_id": call.customer_id,
                    "phone": call.from_number,
                    "opted_in_at": at or timezone.now(),
                },
            )
    except IntegrityError:
        survey = Survey.objects.get(call_sid=call_sid, channel=SurveyChannel.IVR)
    return survey


def ivr_survey_pending(call: Call) -> bool:
    """The caller opted in and has not been surveyed yet (asked when the agent hangs up)."""
    return Survey.objects.filter(
        call_sid=call.sid, channel=SurveyChannel.IVR, sent_at__isnull=True
    ).exists()


def after_agent_hangup(call: Call, *, leg: str) -> None:
    """On commit of the agent's hang-up: survey the caller if they opted in, else end the
    caller's leg as before. Runs outside the hang-up's transaction."""
    from telephony.gateway import get_gateway

    survey = (
        Survey.objects.filter(call_sid=call.sid, channel=SurveyChannel.IVR, sent_at__isnull=True)
        .select_related("call")
        .first()
    )
    if survey is None or leg != call.sid:  # a callback's dialled leg is not surveyed
        get_gateway().hangup(call_sid=leg)
        return
    Survey.objects.filter(pk=survey.pk).update(
        sent_at=timezone.now(), call=call, agent_id=call.agent_id, updated_at=timezone.now()
    )
    lang = call.language if call.language in SAY_LANGUAGE else "ko"
    get_gateway().survey(call_sid=leg, url=survey_url("start", call.sid, lang))


def ivr_survey_response(
    *, step: str, call_sid: str, lang: str, digits: str, tries: int
) -> VoiceResponse:
    """The survey's TwiML, one step per request: "score" asks 1–5, "resolved" asks 1/2,
    "optin" records the opt-in then queues the caller. A wrong key repeats the question
    once; nothing changes after the survey was answered."""
    lang = lang if lang in SAY_LANGUAGE else "ko"
    response = VoiceResponse()
    with translation.override(lang):
        if step == "optin":
            survey_ivr_opt_in(call_sid=call_sid, digits=digits)
            call = Call.objects.filter(sid=call_sid).order_by("-segment").first()
            if call is None or call.phase in ENDED:
                response.hangup()  # the caller is gone: nothing to queue
                return response
            from telephony import twiml

            return twiml.enqueue_response(call, announce_recording=False)
        survey = Survey.objects.filter(call_sid=call_sid, channel=SurveyChannel.IVR).first()
        if survey is None or survey.sent_at is None:
            response.hangup()
            return response
        if step == "start":
            _ask(response, "score", call_sid, lang, 0)
        elif step == "score":
            if digits in {"1", "2", "3", "4", "5"}:
                _record(survey, score=int(digits))
                _ask(response, "resolved", call_sid, lang, 0)
            elif tries < 1 and survey.score is None:
                _ask(response, "score", call_sid, lang, tries + 1)
            else:
                _goodbye(response, lang)
        elif step == "resolved":
            if digits in {"1", "2"}:
                _record(survey, resolved=digits == "1")
                _goodbye(response, lang)
            elif tries < 1 and survey.resolved is None:
                _ask(response, "resolved", call_sid, lang, tries + 1)
            else:
                _goodbye(response, lang)
        else:
            response.hangup()
    return response


def _ask(response: VoiceResponse, step: str, call_sid: str, lang: str, tries: int) -> None:
    action = survey_url(step, call_sid, lang, tries)
    gather = response.gather(
        num_digits=1, timeout=6, action=action, method="POST", action_on_empty_result=True
    )
    if step == "score":
        text = _(
            "How satisfied were you with this call? Press 1 for very dissatisfied "
            "up to 5 for very satisfied."
        )
    else:
        text = _("Was your question resolved? Press 1 for yes, 2 for no.")
    _say(gather, text, lang)


def _goodbye(response: VoiceResponse, lang: str) -> None:
    _say(response, _("Thank you for your answer. Goodbye."), lang)
    response.hangup()


def _record(survey: Survey, **values) -> None:
    """Set the answer once; a replayed webhook changes nothing."""
    fields = {k: v for k, v in values.items() if getattr(survey, k) is None}
    if not fields:
        return
    now = timezone.now()
    fields.setdefault("answered_at", survey.answered_at or now)
    Survey.objects.filter(pk=survey.pk).update(**fields, updated_at=now)
    for k, v in fields.items():
        setattr(survey, k, v)


# --- SMS --------------------------------------------------------------------------------


def _is_mobile(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, getattr(settings, "PHONE_REGION", "KR"))
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) in {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }


def sms_candidates(*, now: datetime | None = None):
    """Handled inbound calls of the last hours, last segment of their contact, with no
    survey asked yet on either channel, from a mobile number."""
    now = now or timezone.now()
    later_segment = Call.objects.filter(sid=OuterRef("sid"), segment__gt=OuterRef("segment"))
    # An IVR opt-in whose survey never ran (the caller hung up first) still gets the SMS.
    surveyed = Survey.objects.filter(call_sid=OuterRef("sid"), sent_at__isnull=False)
    return (
        Call.objects.filter(
            direction=CallDirection.INBOUND,
            phase=CallPhase.COMPLETED,
            wrapup_ended_at__gte=now - SMS_SWEEP_WINDOW,
            wrapup_ended_at__lte=now,
        )
        # Korean mobile numbers (010, 011, 016–019) can answer a text; landlines are never
        # candidates, so they cannot crowd the sweep's batch.
        .filter(from_number__regex=r"^\+821[016789]")
        .exclude(Exists(later_segment))
        .exclude(Exists(surveyed))
        .select_related("queue", "department")
    )


def survey_sms_send_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Ask every due caller by SMS (the periodic sweep). Returns surveys created."""
    if not settings.CSAT_SMS_ENABLED:
        return 0
    sent = 0
    for call in sms_candidates(now=now).order_by("wrapup_ended_at")[:limit]:
        if survey_sms_send(call=call, at=now):
            sent += 1
    return sent


def survey_sms_send(*, call: Call, at: datetime | None = None) -> Survey | None:
    """Create the SMS survey of a handled call and send the question after commit. Once
    per call: the unique (call_sid, channel) makes a second sweep a no-op."""
    from telephony.gateway import get_gateway

    at = at or timezone.now()
    if not _is_mobile(call.from_number):
        return None
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                channel=SurveyChannel.SMS,
                call_sid=call.sid,
                call=call,
                agent_id=call.agent_id,
                customer_id=call.customer_id,
                phone=call.from_number,
                sent_at=at,
            )
            lang = call.language if call.language in SAY_LANGUAGE else "ko"
            with translation.override(lang):
                body = _(
                    "[%(center)s] Thank you for calling. How satisfied were you? "
                    "Reply with a number from 1 (very dissatisfied) to 5 (very satisfied)."
                ) % {"center": call.department.name}
            sender = call.queue.outbound_caller_id
            transaction.on_commit(
                lambda: get_gateway().send_sms(to=call.from_number, from_=sender, body=body)
            )
    except IntegrityError:
        return None
    return survey


_FULLWIDTH = str.maketrans("１２３４５", "12345")


def parse_score(text: str) -> int | None:
    """A reply that is a single number 1–5, optionally with 점/point(s) or punctuation."""
    text = unicodedata.normalize("NFKC", text or "").translate(_FULLWIDTH).strip()
    match = re.fullmatch(r"([1-5])\s*(점|points?|/\s*5)?\s*[.!]?", text, flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


@transaction.atomic
def survey_sms_reply(*, message: SmsMessage, at: datetime | None = None) -> str | None:
    """Match an incoming SMS to the newest survey sent to that number and record it.
    Returns the text to answer with (a clarification), or None. A message that is not about
    a survey (no survey was sent to the number) returns None and changes nothing."""
    at = at or message.at or timezone.now()
    survey = (
        Survey.objects.select_for_update()
        .filter(channel=SurveyChannel.SMS, phone=message.from_number, sent_at__isnull=False)
        .order_by("-sent_at", "-id")
        .first()
    )
    if survey is None:
        return None
    if survey.reply_message_sid == message.sid:
        return None  # a retried webhook of the reply already recorded
    lang = survey.call.language if survey.call_id and survey.call.language in SAY_LANGUAGE else "ko"
    score = parse_score(message.body)
    late = at - survey.sent_at > timedelta(hours=settings.CSAT_REPLY_HOURS)
    if survey.score is not None:
        return None  # answered already: later messages are for the agents, not the survey
    if score is not None and not late:
        survey.score = score
        survey.answered_at = at
        survey.reply_text = (message.body or "")[:320]
        survey.reply_message_sid = message.sid
        survey.save(
            update_fields=["score", "answered_at", "reply_text", "reply_message_sid", "updated_at"]
        )
        return None
    if survey.clarification_sent_at is not None and survey.clarified_message_sid != message.sid:
        return None  # one clarification only
    if survey.clarification_sent_at is None:
        survey.clarification_sent_at = at
        survey.clarified_message_sid = message.sid
        survey.reply_text = (message.body or "")[:320]
        survey.save(
            update_fields=[
                "clarification_sent_at",
                "clarified_message_sid",
                "reply_text",
                "updated_at",
            ]
        )
    with translation.override(lang):
        if late:
            return _(
                "Thank you for your reply. This survey has closed, so we could not record it. "
                "If you still need help, please call us again."
            )
        return _(
            "Thank you for your reply. Please answer with a single number from 1 (very "
            "dissatisfied) to 5 (very satisfied)."
        )
