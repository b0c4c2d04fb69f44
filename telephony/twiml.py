"""TwiML answers, built with the twilio SDK."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import Dial, VoiceResponse

from telephony.models import Call
from telephony.security import public_url

SAY_LANGUAGE = {"ko": "ko-KR", "en": "en-US"}


def _say_lang() -> str:
    return SAY_LANGUAGE.get((translation.get_language() or "ko")[:2], "ko-KR")


def _enqueue(response: VoiceResponse, call: Call) -> VoiceResponse:
    response.enqueue(
        f"q{call.queue_id}",
        wait_url=public_url(reverse("telephony:voice-queue-wait")),
        wait_url_method="POST",
        action=public_url(reverse("telephony:voice-queue-result")),
        method="POST",
    )
    return response


def enqueue_response(call: Call) -> VoiceResponse:
    response = VoiceResponse()
    # Every call is recorded, and the caller is told so before anything else.
    response.say(_("This call is recorded to improve our service."), language=_say_lang())
    return _enqueue(response, call)


def hold_loop_response(position: int | None) -> VoiceResponse:
    """waitUrl: may only use Play, Say, Pause, Hangup, Redirect, Leave, Gather."""
    response = VoiceResponse()
    if position:
        response.say(
            _("You are number %(position)d in line. Please hold.") % {"position": position},
            language=_say_lang(),
        )
    else:
        response.say(_("Please hold; an agent will be with you shortly."), language=_say_lang())
    response.pause(length=10)
    return response


def connect_response(call: Call, agent_id: int, record: bool) -> VoiceResponse:
    response = VoiceResponse()
    dial_kwargs = {}
    if record:
        dial_kwargs = {
            "record": "record-from-answer-dual",
            "recording_status_callback": public_url(reverse("telephony:voice-recording")),
            "recording_status_callback_event": "completed absent",
        }
    dial = Dial(**dial_kwargs)
    dial.client(agent_identity(agent_id))
    response.append(dial)
    return response


def agent_identity(agent_id: int) -> str:
    return f"agent-{agent_id}"


def not_in_service_response() -> VoiceResponse:
    response = VoiceResponse()
    response.say(_("The number you have called is not in service."), language=_say_lang())
    response.hangup()
    return response


def requeue_response(call: Call) -> VoiceResponse:
    """The offer behind a connect request is no longer accepted: back into the queue."""
    return _enqueue(VoiceResponse(), call)
