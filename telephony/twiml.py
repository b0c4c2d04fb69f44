"""TwiML answers, built with the twilio SDK."""

from __future__ import annotations

import functools

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

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


def enqueue_twiml(call: Call, *, announce_recording: bool = True) -> str:
    """enqueue_response as text. It depends only on the queue, the language and the public
    URL, and every incoming call asks for it: built once per process and kept."""
    return _enqueue_twiml_cached(
        call.queue_id, call.language, announce_recording, settings.PUBLIC_BASE_URL
    )


@functools.lru_cache(maxsize=256)
def _enqueue_twiml_cached(queue_id: int, language: str, announce: bool, _base_url: str) -> str:
    call = Call(queue_id=queue_id, language=language)
    return str(enqueue_response(call, announce_recording=announce))


def enqueue_response(call: Call, *, announce_recording: bool = True) -> VoiceResponse:
    """Into the queue. Every call is recorded, and the caller is told so before anything
    else (the IVR's greeting says it already, so it passes announce_recording=False)."""
    response = VoiceResponse()
    if announce_recording:
        with translation.override(call.language):
            response.say(_("This call is recorded to improve our service."), language=_say_lang())
    return _enqueue(response, call)


def hold_loop_response(
    call: Call | None,
    *,
    position: int | None,
    expected_wait: float | None,
    offer_callback: bool,
    pause_seconds: int = 30,
) -> VoiceResponse:
    """waitUrl: may only use Play, Say, Pause, Hangup, Redirect, Leave, Gather. Twilio
    requests it again when it ends, so the announcement repeats every `pause_seconds`."""
    response = VoiceResponse()
    language = call.language if call else "ko"
    with translation.override(language):
        parts = []
        if position:
            parts.append(_("You are number %(position)d in line.") % {"position": position})
        if expected_wait is not None:
            minutes = max(1, round(expected_wait / 60))
            parts.append(
                _("The expected wait is about %(minutes)d minutes.") % {"minutes": minutes}
            )
        if not parts:
            parts.append(_("Please hold; an agent will be with you shortly."))
        if offer_callback:
            gather = Gather(
                num_digits=1,
                timeout=2,
                action=public_url(reverse("telephony:voice-queue-wait")),
                method="POST",
            )
            gather.say(
                " ".join(parts) + " " + _("To be called back without losing your place, press 1."),
                language=_say_lang(),
            )
            response.append(gather)
        else:
            response.say(" ".join(parts), language=_say_lang())
    response.pause(length=max(1, pause_seconds))
    return response


def leave_queue_response() -> VoiceResponse:
    """waitUrl: out of the queue; Twilio then requests the Enqueue action (QueueResult=leave)."""
    response = VoiceResponse()
    response.leave()
    return response


def callback_booked_response(call: Call) -> VoiceResponse:
    response = VoiceResponse()
    with translation.override(call.language):
        response.say(
            _(
                "Thank you. You keep your place in line and we will call you back "
                "at this number when it is your turn."
            ),
            language=_say_lang(),
        )
    response.hangup()
    return response


def voicemail_response(
    *, reason: str, language: str = "ko", call: Call | None = None, department_id: int | None = None
) -> VoiceResponse:
    """Ask for a message and record it; the voicemail webhook files it."""
    query = f"?reason={reason}&lang={language}"
    if call is not None:
        query += f"&call={call.pk}"
    if department_id is not None:
        query += f"&department={department_id}"
    url = public_url(reverse("telephony:voice-voicemail") + query)
    response = VoiceResponse()
    with translation.override(language):
        response.say(
            _("Please leave your name, number and message after the tone."),
            language=_say_lang(),
        )
        response.record(
            action=url,
            method="POST",
            recording_status_callback=url,
            recording_status_callback_method="POST",
            max_length=120,
            play_beep=True,
            finish_on_key="#",
        )
        response.say(_("We did not receive a message. Goodbye."), language=_say_lang())
    response.hangup()
    return response


def goodbye_response(language: str = "ko") -> VoiceResponse:
    response = VoiceResponse()
    with translation.override(language):
        response.say(_("Thank you for calling. Goodbye."), language=_say_lang())
    response.hangup()
    return response


def connect_response(call: Call, agent_id: int, record: bool) -> VoiceResponse:
    """The caller's leg enters the call's conference; the agent is added to it as a
    participant (see `conference_response`), so hold, transfers and listening work."""
    return conference_response(call, record=record)


def _direct_dial_response(call: Call, agent_id: int, record: bool) -> VoiceResponse:
    """Before conferences: the caller's leg dialled the agent's client directly."""
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


# --- Conference bridging (telephony.services.bridging) ------------------------------------

CUSTOMER_LABEL = "customer"


def conference_name(call: Call) -> str:
    """One conference per Twilio call, named after its first segment: transfers keep the
    caller in the same conference while new segments (and agents) come and go."""
    root_pk = call.pk
    if call.segment:
        root_pk = (
            Call.objects.filter(sid=call.sid).order_by("segment").values_list("pk", flat=True)[0]
        )
    return f"call-{root_pk}"


def hold_music_url() -> str:
    return public_url(reverse("telephony:voice-hold"))


def conference_response(call: Call, *, record: bool, rejoin: bool = False) -> VoiceResponse:
    """`<Dial action><Conference>` for the customer's leg. The conference ends when the
    customer leaves (nobody stays on without them); agents come and go. On `rejoin` (the
    leg fell out of the conference during a transfer) the customer waits with hold music
    until the next agent starts the conference again."""
    dial = Dial(
        action=public_url(reverse("telephony:voice-dial-result") + f"?call={call.pk}"),
        method="POST",
    )
    conference_kwargs = {
        "status_callback": public_url(reverse("telephony:voice-conference")),
        "status_callback_method": "POST",
        "status_callback_event": "start end join leave hold",
        "end_conference_on_exit": True,
        "start_conference_on_enter": not rejoin,
        "beep": False,
        "wait_url": hold_music_url(),
        "wait_method": "POST",
        "participant_label": CUSTOMER_LABEL,
    }
    if record:
        conference_kwargs.update(
            record="record-from-start",
            recording_status_callback=public_url(
                reverse("telephony:voice-recording") + f"?call={call.pk}"
            ),
            recording_status_callback_method="POST",
            recording_status_callback_event="completed absent",
        )
    dial.conference(conference_name(call), **conference_kwargs)
    response = VoiceResponse()
    response.append(dial)
    return response


def hold_music_response() -> VoiceResponse:
    """Hold music / conference waitUrl: Say and Pause only (allowed in both places)."""
    response = VoiceResponse()
    response.say(_("Please hold; an agent will be with you shortly."), language=_say_lang())
    response.pause(length=20)
    return response


def hangup_response() -> VoiceResponse:
    response = VoiceResponse()
    response.hangup()
    return response
