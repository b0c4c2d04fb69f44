"""The simulator plays Twilio's part in simulated mode.

It places calls by posting signed webhooks to Sangdam's own URLs, answers Sangdam's REST
requests (redirect to the connect TwiML, hang up) and posts the status and recording
callbacks Twilio would. Every message it sends or receives is logged in SimulatorMessage.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from telephony.models import SimulatorMessage
from telephony.security import public_url, webhook_auth_token


class Transport(Protocol):
    def post(self, url: str, data: dict[str, str], signature: str) -> tuple[int, str]: ...


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
        response = requests.post(
            target, data=data, headers={"X-Twilio-Signature": signature}, timeout=15
        )
        return response.status_code, response.text


transport_override: Transport | None = None  # tests plug Django's test client in here


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def new_recording_sid() -> str:
    return "RE" + secrets.token_hex(16)


@dataclass
class Simulator:
    transport: Transport

    @classmethod
    def default(cls) -> Simulator:
        return cls(transport_override or HttpTransport())

    def _post(self, call_sid: str, action: str, url: str, data: dict[str, str]) -> tuple[int, str]:
        signature = RequestValidator(webhook_auth_token()).compute_signature(url, data)
        SimulatorMessage.objects.create(
            direction="webhook", call_sid=call_sid, action=action, data=data
        )
        return self.transport.post(url, data, signature)

    def _sequence(self, call_sid: str) -> int:
        return SimulatorMessage.objects.filter(
            direction="webhook", call_sid=call_sid, action="status"
        ).count()

    def place_call(self, *, from_number: str, to_number: str, call_sid: str | None = None) -> str:
        sid = call_sid or new_call_sid()
        self._post(
            sid,
            "incoming",
            public_url(reverse("telephony:voice-incoming")),
            {
                "CallSid": sid,
                "AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
                "From": from_number,
                "To": to_number,
                "CallStatus": "ringing",
                "Direction": "inbound",
                "ApiVersion": "2010-04-01",
            },
        )
        return sid

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
        msg = SimulatorMessage.objects.filter(
            direction="rest", call_sid=call_sid, action="redirect"
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
        if started:
            self.post_recording(call_sid=call_sid, duration=duration)

    def handle_rest(self, *, call_sid: str, action: str, url: str = "") -> None:
        """Answer one of Sangdam's REST requests as Twilio would."""
        SimulatorMessage.objects.create(
            direction="rest", call_sid=call_sid, action=action, data={"url": url}
        )
        if action == "redirect":
            # Twilio fetches the new TwiML, leaves the queue and dials the agent.
            self._post(call_sid, "connect", url, {"CallSid": call_sid, "CallStatus": "in-progress"})
            self.post_status(call_sid=call_sid, status="in-progress")
        elif action == "hangup":
            self.caller_hangs_up(call_sid=call_sid)
