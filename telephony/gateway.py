"""Sangdam's REST calls to the telephony provider.

`twilio` mode talks to Twilio's REST API with the twilio client; `simulated` mode hands the
same requests to the built-in simulator, which answers them the way Twilio would (by
fetching the TwiML and posting signed callbacks back to Sangdam's own URLs).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.urls import reverse

from callcenter.dispatch import dispatch_allowed
from telephony.security import public_url
from telephony.services.outbound import DIAL_TIMEOUT_SECONDS

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from telephony.recordings import RecordingAudio


class Gateway(Protocol):
    def connect_to_agent(self, *, call_sid: str, offer_id: int) -> None: ...
    def hangup(self, *, call_sid: str) -> None: ...
    def survey(self, *, call_sid: str, url: str) -> None: ...
    def send_sms(self, *, to: str, from_: str, body: str) -> str | None: ...
    def conference_add_agent(self, *, offer_id: int) -> None: ...
    def participant_add(
        self,
        *,
        conference: str,
        call_sid: str,
        identity: str,
        from_number: str,
        label: str,
        muted: bool = False,
        coach_call_sid: str = "",
    ) -> None: ...
    def participant_update(
        self, *, conference: str, label: str, muted: bool, coach_call_sid: str = ""
    ) -> None: ...
    def participant_hold(self, *, conference: str, call_sid: str, hold: bool) -> None: ...
    def participant_remove(self, *, conference: str, call_sid: str, label: str) -> None: ...
    def dial_out(self, *, call_id: int, offer_id: int) -> None: ...
    def dial_callback(self, *, call_id: int, offer_id: int) -> None: ...
    def fetch_recording(
        self, *, url: str, duration_seconds: int | None, range_header: str = ""
    ) -> RecordingAudio: ...
    def delete_recording(self, *, recording_sid: str) -> None: ...


def connect_url(offer_id: int) -> str:
    return public_url(reverse("telephony:voice-connect") + f"?offer={offer_id}")


class TwilioGateway:
    def __init__(self, http_client=None) -> None:
        self.http_client = http_client  # tests replace Twilio's HTTP layer, nothing else

    def _client(self):
        from twilio.rest import Client

        return Client(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=self.http_client
        )

    def connect_to_agent(self, *, call_sid: str, offer_id: int) -> None:
        if _customer_in_conference(offer_id):
            # A transferred call: the customer holds in the conference; the agent joins it.
            self.conference_add_agent(offer_id=offer_id)
            return
        # Redirecting a queued call makes Twilio fetch our connect TwiML, which puts the
        # caller into the call's conference (and adds the agent to it); the Enqueue action
        # then reports QueueResult=redirected.
        self._client().calls(call_sid).update(url=connect_url(offer_id), method="POST")

    def hangup(self, *, call_sid: str) -> None:
        self._client().calls(call_sid).update(status="completed")

    def survey(self, *, call_sid: str, url: str) -> None:
        """The caller's leg leaves the conference for the post-call survey (telephony/services/surveys.py)."""
        self._client().calls(call_sid).update(url=url, method="POST")

    def send_sms(self, *, to: str, from_: str, body: str) -> str | None:
        """The message's SID."""
        return self._client().messages.create(to=to, from_=from_, body=body).sid

    def conference_add_agent(self, *, offer_id: int) -> None:
        _conference_add_agent(self, offer_id)

    def participant_add(
        self,
        *,
        conference: str,
        call_sid: str,
        identity: str,
        from_number: str,
        label: str,
        muted: bool = False,
        coach_call_sid: str = "",
    ) -> None:
        """Rings `client:<identity>` into the conference (the Participants API accepts the
        conference's friendly name and creates it if the customer is not in yet)."""
        extra = {"coaching": True, "call_sid_to_coach": coach_call_sid} if coach_call_sid else {}
        self._client().conferences(conference).participants.create(
            from_=from_number,
            to=f"client:{identity}",
            label=label,
            muted=muted,
            beep="false",
            end_conference_on_exit=False,
            status_callback=public_url(reverse("telephony:voice-status")),
            status_callback_event=["completed"],
            conference_status_callback=public_url(reverse("telephony:voice-conference")),
            conference_status_callback_method="POST",
            conference_status_callback_event=["start", "end", "join", "leave", "hold"],
            **extra,
        )

    def participant_update(
        self, *, conference: str, label: str, muted: bool, coach_call_sid: str = ""
    ) -> None:
        """A listening lead changes mode: muted (listen), coaching the agent's leg (whisper)
        or neither (barge: the customer hears them too)."""
        extra = {"call_sid_to_coach": coach_call_sid} if coach_call_sid else {}
        self._client().conferences(conference).participants(label).update(
            muted=muted, coaching=bool(coach_call_sid), **extra
        )

    def participant_hold(self, *, conference: str, call_sid: str, hold: bool) -> None:
        from telephony.twiml import CUSTOMER_LABEL, hold_music_url

        extra = {"hold_url": hold_music_url(), "hold_method": "POST"} if hold else {}
        self._client().conferences(conference).participants(CUSTOMER_LABEL).update(
            hold=hold, **extra
        )

    def participant_remove(self, *, conference: str, call_sid: str, label: str) -> None:
        self._client().conferences(conference).participants(label).delete()

    def _dial(self, *, to: str, from_: str, offer_id: int) -> str:
        # When the customer answers, Twilio fetches the connect TwiML: bridged to the agent
        # (and recorded there, like every inbound call, so there is one recording per call).
        # "initiated" is not asked for: its CallStatus adds nothing to ringing.
        created = self._client().calls.create(
            to=to,
            from_=from_,
            url=connect_url(offer_id),
            method="POST",
            status_callback=public_url(reverse("telephony:voice-status")),
            status_callback_method="POST",
            status_callback_event=["ringing", "answered", "completed"],
            timeout=DIAL_TIMEOUT_SECONDS,
        )
        return created.sid

    def dial_out(self, *, call_id: int, offer_id: int) -> None:
        """A follow-up call: the customer's number, from the department's caller ID."""
        from telephony.models import Call
        from telephony.services.outbound import call_dial_failed, call_dialled

        call = Call.objects.get(pk=call_id)
        try:
            sid = self._dial(to=call.to_number, from_=call.from_number, offer_id=offer_id)
        except Exception:
            logger.exception("twilio refused the follow-up call %s", call_id)
            call_dial_failed(call_id=call_id, reason="provider_error")
            return
        call_dialled(call_id=call_id, sid=sid)

    def dial_callback(self, *, call_id: int, offer_id: int) -> None:
        """The leg that calls back a caller who booked a callback; its sid is stored as
        Call.callback_sid, which status and recording callbacks are matched by."""
        from telephony.models import Call
        from telephony.services.outbound import call_callback_dialled, call_dial_failed

        call = Call.objects.select_related("queue__department").get(pk=call_id)
        try:
            sid = self._dial(
                to=call.callback_number or call.from_number,
                from_=call.queue.outbound_caller_id,
                offer_id=offer_id,
            )
        except Exception:
            logger.exception("twilio refused the callback of call %s", call_id)
            call_dial_failed(call_id=call_id, reason="provider_error")
            return
        call_callback_dialled(call_id=call_id, sid=sid)

    def fetch_recording(
        self, *, url: str, duration_seconds: int | None, range_header: str = ""
    ) -> RecordingAudio:
        """The recording's MP3 from Twilio's REST API (basic auth); raises RecordingFetchError."""
        from telephony.recordings import twilio_recording_fetch

        return twilio_recording_fetch(url=url, range_header=range_header)

    def delete_recording(self, *, recording_sid: str) -> None:
        """Deletes the recording's media at Twilio (retention, erasure). One already gone
        (404) counts as deleted; any other refusal raises, and the caller keeps the row."""
        from twilio.base.exceptions import TwilioRestException

        try:
            self._client().recordings(recording_sid).delete()
        except TwilioRestException as exc:
            if exc.status != 404:
                raise


class SimulatedGateway:
    def connect_to_agent(self, *, call_sid: str, offer_id: int) -> None:
        from telephony.tasks import simulator_rest

        if _customer_in_conference(offer_id):
            self.conference_add_agent(offer_id=offer_id)
            return
        simulator_rest.delay(call_sid=call_sid, action="redirect", url=connect_url(offer_id))

    def hangup(self, *, call_sid: str) -> None:
        from telephony.tasks import simulator_rest

        simulator_rest.delay(call_sid=call_sid, action="hangup", url="")

    def survey(self, *, call_sid: str, url: str) -> None:
        from telephony.tasks import simulator_rest

        simulator_rest.delay(call_sid=call_sid, action="survey", url=url)

    def send_sms(self, *, to: str, from_: str, body: str) -> None:
        from telephony.tasks import simulator_rest

        simulator_rest.delay(
            call_sid="", action="sms", url="", data={"to": to, "from": from_, "body": body}
        )

    def conference_add_agent(self, *, offer_id: int) -> None:
        _conference_add_agent(self, offer_id)

    def _conference_rest(self, call_sid: str, action: str, **data) -> None:
        from telephony.tasks import simulator_rest

        simulator_rest.delay(call_sid=call_sid, action=action, url="", data=data)

    def participant_add(
        self,
        *,
        conference: str,
        call_sid: str,
        identity: str,
        from_number: str,
        label: str,
        muted: bool = False,
        coach_call_sid: str = "",
    ) -> None:
        self._conference_rest(
            call_sid,
            "participant_add",
            conference=conference,
            identity=identity,
            label=label,
            muted=muted,
            coach_call_sid=coach_call_sid,
        )

    def participant_update(
        self, *, conference: str, label: str, muted: bool, coach_call_sid: str = ""
    ) -> None:
        self._conference_rest(
            "",
            "participant_update",
            conference=conference,
            label=label,
            muted=muted,
            coach_call_sid=coach_call_sid,
        )

    def participant_hold(self, *, conference: str, call_sid: str, hold: bool) -> None:
        self._conference_rest(call_sid, "participant_hold", conference=conference, hold=hold)

    def participant_remove(self, *, conference: str, call_sid: str, label: str) -> None:
        self._conference_rest(call_sid, "participant_remove", conference=conference, label=label)

    def dial_out(self, *, call_id: int, offer_id: int) -> None:
        # The simulator finds the call by its placeholder sid and stores the one it makes.
        from telephony.models import Call
        from telephony.tasks import simulator_rest

        sid = Call.objects.filter(pk=call_id).values_list("sid", flat=True).first()
        simulator_rest.delay(call_sid=sid, action="dial_out", url=connect_url(offer_id))

    def dial_callback(self, *, call_id: int, offer_id: int) -> None:
        from telephony.models import Call
        from telephony.tasks import simulator_rest

        sid = Call.objects.filter(pk=call_id).values_list("sid", flat=True).first()
        simulator_rest.delay(call_sid=sid, action="dial_callback", url=connect_url(offer_id))

    def fetch_recording(
        self, *, url: str, duration_seconds: int | None, range_header: str = ""
    ) -> RecordingAudio:
        """The simulator's recording media: a synthesised WAV of the recording's length."""
        from telephony.recordings import simulated_recording_fetch

        return simulated_recording_fetch(
            duration_seconds=duration_seconds, range_header=range_header
        )

    def delete_recording(self, *, recording_sid: str) -> None:
        """The simulator keeps no media (it synthesises the audio when played): clearing
        the row's URL, which the caller does, removes the recording."""
        return None


class HeldBackGateway:
    """While replaying history (seed_demo) no request leaves for the provider."""

    def connect_to_agent(self, *, call_sid: str, offer_id: int) -> None:
        return None

    def hangup(self, *, call_sid: str) -> None:
        return None

    def survey(self, *, call_sid: str, url: str) -> None:
        return None

    def send_sms(self, *, to: str, from_: str, body: str) -> None:
        return None

    def conference_add_agent(self, *, offer_id: int) -> None:
        return None

    def participant_add(self, **kwargs) -> None:
        return None

    def participant_update(self, **kwargs) -> None:
        return None

    def participant_hold(self, *, conference: str, call_sid: str, hold: bool) -> None:
        return None

    def participant_remove(self, *, conference: str, call_sid: str, label: str) -> None:
        return None

    def dial_out(self, *, call_id: int, offer_id: int) -> None:
        return None

    def dial_callback(self, *, call_id: int, offer_id: int) -> None:
        return None

    def fetch_recording(
        self, *, url: str, duration_seconds: int | None, range_header: str = ""
    ) -> RecordingAudio:
        from telephony.recordings import RecordingFetchError

        raise RecordingFetchError("requests to the provider are held back")

    def delete_recording(self, *, recording_sid: str) -> None:
        raise RuntimeError("requests to the provider are held back")


def _customer_in_conference(offer_id: int) -> bool:
    from telephony.services.bridging import agent_join_plan

    plan = agent_join_plan(offer_id)
    return plan is not None and plan.customer_in_conference


def _conference_add_agent(gateway, offer_id: int) -> None:
    """The offer's agent joins the customer's conference; after a cold transfer the
    customer comes off hold (in a warm consult they keep holding until it completes)."""
    from telephony.services.bridging import agent_join_plan

    plan = agent_join_plan(offer_id)
    if plan is None:
        return
    gateway.participant_add(
        conference=plan.conference,
        call_sid=plan.customer_sid,
        identity=plan.identity,
        from_number=plan.from_number,
        label=plan.label,
    )
    if plan.unhold_customer:
        gateway.participant_hold(conference=plan.conference, call_sid=plan.customer_sid, hold=False)


def get_gateway() -> Gateway:
    if not dispatch_allowed():
        return HeldBackGateway()
    if settings.TELEPHONY_MODE == "twilio":
        return TwilioGateway()
    return SimulatedGateway()
