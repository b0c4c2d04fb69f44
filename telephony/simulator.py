"""The simulator plays Twilio's part in simulated mode.

It places calls by posting signed webhooks to Sangdam's own URLs, answers Sangdam's REST
requests (redirect to the connect TwiML, hang up) and posts the status and recording
callbacks Twilio would. Every message it sends or receives is logged in SimulatorMessage.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from telephony.models import SimulatorMessage
from telephony.security import public_url, webhook_auth_token
from telephony.simulator_conferences import ConferenceSimulation


class Transport(Protocol):
    def post(self, url: str, data: dict[str, str], signature: str) -> tuple[int, str]: ...


def proxy_headers() -> dict[str, str]:
    """Inside the network (docker-compose: http://web:8000) a request arrives as the TLS
    proxy would pass it on, so production's HTTPS redirect lets it in."""
    return {"X-Forwarded-Proto": urlsplit(settings.PUBLIC_BASE_URL).scheme or "http"}


class HttpTransport:
    """Posts over HTTP to the running server, as Twilio does."""

    def __init__(self, target_base: str | None = None) -> None:
        self.target_base = (
            target_base or settings.SIMULATOR_TARGET_URL or settings.PUBLIC_BASE_URL
        ).rstrip("/")

    def post(self, url: str, data: dict[str, str], signature: str) -> tuple[int, str]:
        # The signature covers the public URL; the request itself goes to the target server.
        parts = urlsplit(url)
        target = self.target_base + parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"X-Twilio-Signature": signature, **proxy_headers()}
        response = requests.post(target, data=data, headers=headers, timeout=15)
        return response.status_code, response.text


transport_override: Transport | None = None  # tests plug Django's test client in here


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def new_recording_sid() -> str:
    return "RE" + secrets.token_hex(16)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


@dataclass
class Simulator(ConferenceSimulation):
    transport: Transport
    # The customers Sangdam dials (follow-ups, callbacks) pick up after `answer_delay`
    # seconds, or not at all with probability `no_answer_rate` (Twilio: no-answer).
    answer_delay: float = field(default_factory=lambda: _setting("SIMULATOR_ANSWER_DELAY", 2.0))
    no_answer_rate: float = field(default_factory=lambda: _setting("SIMULATOR_NO_ANSWER_RATE", 0.1))
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def default(cls) -> Simulator:
        return cls(transport_override or HttpTransport())

    def _post(self, call_sid: str, action: str, url: str, data: dict[str, str]) -> tuple[int, str]:
        signature = RequestValidator(webhook_auth_token()).compute_signature(url, data)
        SimulatorMessage.objects.create(
            direction="webhook", call_sid=call_sid, action=action, data=data
        )
        status, body = self.transport.post(url, data, signature)
        if action == "connect" and "<Conference" in body:
            self.enter_conference(call_sid=call_sid, twiml=body)
        return status, body

    def _sequence(self, call_sid: str) -> int:
        return SimulatorMessage.objects.filter(
            direction="webhook", call_sid=call_sid, action="status"
        ).count()

    def place_call(
        self,
        *,
        from_number: str,
        to_number: str,
        call_sid: str | None = None,
        ivr_digits: str | None = None,
    ) -> str:
        sid = call_sid or new_call_sid()
        incoming = {
            "CallSid": sid,
            "AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
            "From": from_number,
            "To": to_number,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        _, twiml = self._post(
            sid, "incoming", public_url(reverse("telephony:voice-incoming")), incoming
        )
        self.follow_ivr(caller=incoming, twiml=twiml, digits=ivr_digits)
        return sid

    # --- The caller at a voice menu (telephony.ivr) ----------------------------------------

    def follow_ivr(self, *, caller: dict[str, str], twiml: str, digits: str | None = None) -> None:
        """While the TwiML holds a <Gather>, press the next key of `digits` (a space: say
        nothing, a timeout), else a key of one of the menu's department options (and 1,
        keep waiting, when a callback is offered), and post it to the Gather's action,
        signed, as Twilio would; stop at Enqueue or Hangup. A <Record> leaves a message."""
        import xml.etree.ElementTree as ET  # noqa: N817 - Sangdam's own TwiML

        keys = list(digits or "")
        for _step in range(12):  # a menu loop must not spin forever
            try:
                root = ET.fromstring(twiml)  # noqa: S314 - produced by Sangdam a moment ago
            except ET.ParseError:
                return
            record = root.find("Record")
            if record is not None:
                self._leave_voicemail(caller, record)
                return
            gather = root.find("Gather")
            if gather is None:
                return
            action = gather.get("action", "")
            key = keys.pop(0).strip() if keys else self._menu_key(action)
            pressed = {
                "CallSid": caller["CallSid"],
                "AccountSid": caller["AccountSid"],
                "From": caller["From"],
                "To": caller["To"],
                "CallStatus": "in-progress",
                "Direction": "inbound",
            }
            if key:
                pressed["Digits"] = key
            _, twiml = self._post(caller["CallSid"], "gather", action, pressed)

    def _menu_key(self, action: str) -> str:
        from urllib.parse import parse_qs

        from telephony.models import IvrAction, IvrOption

        query = parse_qs(urlsplit(action).query)
        if "offer" in query:
            return "1"  # keep waiting
        if query.get("step") == [
            "optin"
        ]:  # the post-call survey question (telephony/services/surveys.py)
            return "1" if self.rng.random() < 0.5 else ""
        menu_id = (query.get("menu") or [""])[0]
        keys = list(
            IvrOption.objects.filter(
                menu_id=int(menu_id) if menu_id.isdigit() else 0, action=IvrAction.QUEUE
            ).values_list("digit", flat=True)
        )
        return self.rng.choice(keys) if keys else ""

    def _leave_voicemail(self, caller: dict[str, str], record) -> None:
        """The caller speaks after the tone and presses #: the Record action, then the
        recording status callback, as Twilio sends them."""
        rec = new_recording_sid()
        account = caller["AccountSid"]
        duration = str(self.rng.randint(5, 40))
        url = f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{rec}"
        common = {"CallSid": caller["CallSid"], "AccountSid": account, "RecordingSid": rec}
        if record.get("action"):
            self._post(
                caller["CallSid"],
                "record",
                record.get("action"),
                {
                    **common,
                    "From": caller["From"],
                    "To": caller["To"],
                    "RecordingUrl": url,
                    "RecordingDuration": duration,
                    "Digits": "#",
                },
            )
        if record.get("recordingStatusCallback"):
            self._post(
                caller["CallSid"],
                "recording",
                record.get("recordingStatusCallback"),
                {
                    **common,
                    "RecordingUrl": url,
                    "RecordingStatus": "completed",
                    "RecordingDuration": duration,
                },
            )

    def post_status(self, *, call_sid: str, status: str, duration: int | None = None) -> None:
        data = {
            "CallSid": call_sid,
            "CallStatus": status,
            "SequenceNumber": str(self._sequence(call_sid)),
            "Timestamp": timezone.now().strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "CallbackSource": "call-progress-events",
        }
        if duration is not None:
            data["CallDuration"] = str(duration)
        self._post(call_sid, "status", public_url(reverse("telephony:voice-status")), data)

    def post_recording(self, *, call_sid: str, duration: int) -> None:
        rec = new_recording_sid()
        account = settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32
        conference = self._conference_of_leg(call_sid)
        if conference and conference.data.get("recording_callback"):
            # A conference recording: Twilio names the conference, not a call leg.
            self._post(
                call_sid,
                "recording",
                conference.data["recording_callback"],
                {
                    "ConferenceSid": conference.data["conference_sid"],
                    "RecordingSid": rec,
                    "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{rec}",
                    "RecordingStatus": "completed",
                    "RecordingDuration": str(duration),
                },
            )
            return
        self._post(
            call_sid,
            "recording",
            public_url(reverse("telephony:voice-recording")),
            {
                "CallSid": call_sid,
                "RecordingSid": rec,
                "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{rec}",
                "RecordingStatus": "completed",
                "RecordingDuration": str(duration),
            },
        )

    def connected_at(self, call_sid: str):
        # Inbound: Sangdam's redirect to the agent; a leg Sangdam dialled: its connect fetch.
        msg = SimulatorMessage.objects.filter(
            call_sid=call_sid, action__in=["redirect", "connect"]
        ).first()
        return msg.at if msg else None

    def caller_hangs_up(self, *, call_sid: str) -> None:
        """The caller puts the phone down (in queue: an abandon; connected: end of talk)."""
        started = self.connected_at(call_sid)
        ended = SimulatorMessage.objects.filter(
            direction="webhook", call_sid=call_sid, action="status", data__CallStatus="completed"
        ).exists()
        if ended:
            return
        duration = int((timezone.now() - started).total_seconds()) if started else 0
        self.post_status(call_sid=call_sid, status="completed", duration=duration)
        self.leave_conference(call_sid=call_sid)
        if started:
            self.post_recording(call_sid=call_sid, duration=duration)

    def caller_asks_for_callback(self, *, call_sid: str) -> bool:
        """A waiting caller presses 1 at the hold announcement (the waitUrl's Gather), is
        taken out of the queue (<Leave>), hears the confirmation and hangs up, as on Twilio.
        Returns False if Sangdam did not offer the way out (the call is no longer waiting)."""
        _, body = self._post(
            call_sid,
            "queue-wait",
            public_url(reverse("telephony:voice-queue-wait")),
            {"CallSid": call_sid, "Digits": "1", "QueueTime": "0"},
        )
        if "<Leave" not in body:
            return False
        self._post(
            call_sid,
            "queue-result",
            public_url(reverse("telephony:voice-queue-result")),
            {"CallSid": call_sid, "QueueResult": "leave", "QueueTime": "0"},
        )
        self.post_status(call_sid=call_sid, status="completed", duration=0)
        return True

    def handle_rest(
        self, *, call_sid: str, action: str, url: str = "", data: dict | None = None
    ) -> None:
        """Answer one of Sangdam's REST requests as Twilio would."""
        SimulatorMessage.objects.create(
            direction="rest", call_sid=call_sid, action=action, data={"url": url, **(data or {})}
        )
        if action in {
            "participant_add",
            "participant_update",
            "participant_hold",
            "participant_remove",
        }:
            self.conference_rest(call_sid=call_sid, action=action, data=data or {})
        if action == "redirect":
            # Twilio fetches the new TwiML, leaves the queue and dials the agent.
            self._post(call_sid, "connect", url, {"CallSid": call_sid, "CallStatus": "in-progress"})
            self.post_status(call_sid=call_sid, status="in-progress")
        elif action == "hangup":
            self.caller_hangs_up(call_sid=call_sid)
        elif action == "survey":
            self.answer_survey(call_sid=call_sid, url=url)
        elif action == "sms":
            self.answer_sms(data or {})
        elif action in {"dial_out", "dial_callback"}:
            self.dial(call_sid=call_sid, action=action, url=url)

    def answer_survey(self, *, call_sid: str, url: str) -> None:
        """The agent hung up and Sangdam redirected the caller to the post-call survey:
        the caller presses a score (mostly 4–5) and whether it was resolved, then hangs up."""
        import re
        from html import unescape

        self.leave_conference(call_sid=call_sid)
        data = {"CallSid": call_sid, "CallStatus": "in-progress"}
        _, twiml = self._post(call_sid, "survey", url, data)
        for key in (self.rng.choice("3445555"), self.rng.choice("1112")):
            action = re.search(r'<Gather[^>]*action="([^"]+)"', twiml)
            if action is None:
                break
            _, twiml = self._post(
                call_sid, "survey", unescape(action.group(1)), {**data, "Digits": key}
            )
        self.caller_hangs_up(call_sid=call_sid)

    def answer_sms(self, data: dict) -> None:
        """Sangdam texted a customer (the post-call survey): most reply with a score, a few
        with words, some not at all, as customers do."""
        roll = self.rng.random()
        if roll < 0.3:
            return
        body = self.rng.choice("2345555") if roll < 0.9 else "좋았어요"
        reply = {
            "MessageSid": "SM" + "".join(self.rng.choice("0123456789abcdef") for _ in range(32)),
            "From": data.get("to", ""),
            "To": data.get("from", ""),
            "Body": body,
        }
        self._post("", "sms", public_url(reverse("telephony:sms-incoming")), reply)

    def dial(self, *, call_sid: str, action: str, url: str) -> str | None:
        """Sangdam asked for a call to a customer (`dial_out`: `call_sid` is the follow-up's
        placeholder; `dial_callback`: the inbound call that booked it). Like Twilio, name
        the new leg (stored through the service), ring, and when the customer answers fetch
        the connect TwiML with the new leg's sid. A retried request dials nobody twice."""
        from telephony.services.common import call_for_sid
        from telephony.services.outbound import (
            call_callback_dialled,
            call_dialled,
            is_placeholder_sid,
        )

        call = call_for_sid(call_sid)
        if call is None:
            return None
        sid = new_call_sid()
        if action == "dial_out":
            if not is_placeholder_sid(call.sid):
                return None
            call_dialled(call_id=call.pk, sid=sid)
        else:
            if call.callback_sid:
                return None
            call_callback_dialled(call_id=call.pk, sid=sid)
        self.post_status(call_sid=sid, status="ringing")
        if self.answer_delay > 0:
            time.sleep(self.answer_delay)
        if self.rng.random() < self.no_answer_rate:
            self.post_status(call_sid=sid, status="no-answer")
            return sid
        answered = {"CallSid": sid, "CallStatus": "in-progress", "Direction": "outbound-api"}
        self._post(sid, "connect", url, answered)
        self.post_status(call_sid=sid, status="in-progress")
        return sid
