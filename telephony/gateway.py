"""Sangdam's REST calls to the telephony provider.

`twilio` mode talks to Twilio's REST API with the twilio client; `simulated` mode hands the
same requests to the built-in simulator, which answers them the way Twilio would (by
fetching the TwiML and posting signed callbacks back to Sangdam's own URLs).
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.urls import reverse

from telephony.security import public_url


class Gateway(Protocol):
    def connect_to_agent(self, *, call_sid: str, offer_id: int) -> None: ...
    def hangup(self, *, call_sid: str) -> None: ...


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
        # Redirecting a queued call makes Twilio fetch our connect TwiML, which dials the
        # agent's browser client; the Enqueue action then reports QueueResult=redirected.
        self._client().calls(call_sid).update(url=connect_url(offer_id), method="POST")

    def hangup(self, *, call_sid: str) -> None:
        self._client().calls(call_sid).update(status="completed")


class SimulatedGateway:
    def connect_to_agent(self, *, call_sid: str, offer_id: int) -> None:
        from telephony.tasks import simulator_rest

        simulator_rest.delay(call_sid=call_sid, action="redirect", url=connect_url(offer_id))

    def hangup(self, *, call_sid: str) -> None:
        from telephony.tasks import simulator_rest

        simulator_rest.delay(call_sid=call_sid, action="hangup", url="")


class HeldBackGateway:
    """While replaying history (seed_demo) no request leaves for the provider."""

    def connect_to_agent(self, *, call_sid: str, offer_id: int) -> None:
        return None

    def hangup(self, *, call_sid: str) -> None:
        return None


def get_gateway() -> Gateway:
    from callcenter.dispatch import dispatch_allowed

    if not dispatch_allowed():
        return HeldBackGateway()
    if settings.TELEPHONY_MODE == "twilio":
        return TwilioGateway()
    return SimulatedGateway()
