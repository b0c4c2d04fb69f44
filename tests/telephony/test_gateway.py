"""twilio mode: Sangdam's REST requests, checked at Twilio's HTTP layer (nothing else mocked)."""

import logging

from twilio.http import HttpClient
from twilio.http.response import Response

from telephony.gateway import TwilioGateway, get_gateway

SID = "CA" + "e5" * 16
CALL_JSON = f'{{"sid": "{SID}", "status": "in-progress"}}'


class RecordingHttpClient(HttpClient):
    def __init__(self):
        super().__init__(logging.getLogger(__name__), is_async=False)
        self.requests = []

    def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        self.requests.append((method, url, data))
        return Response(200, CALL_JSON)


def test_connect_redirects_the_queued_call_to_the_connect_twiml(settings, db):
    http = RecordingHttpClient()
    TwilioGateway(http_client=http).connect_to_agent(call_sid=SID, offer_id=42)
    ((method, url, data),) = http.requests
    assert method == "POST"
    assert url.endswith(f"/Accounts/{settings.TWILIO_ACCOUNT_SID}/Calls/{SID}.json")
    assert data["Url"] == "https://sangdam.example.com/telephony/voice/connect/?offer=42"
    assert data["Method"] == "POST"


def test_hangup_completes_the_call():
    http = RecordingHttpClient()
    TwilioGateway(http_client=http).hangup(call_sid=SID)
    ((_, _, data),) = http.requests
    assert data["Status"] == "completed"


def test_the_mode_setting_picks_the_gateway(settings):
    settings.TELEPHONY_MODE = "twilio"
    assert isinstance(get_gateway(), TwilioGateway)
    settings.TELEPHONY_MODE = "simulated"
    assert not isinstance(get_gateway(), TwilioGateway)


def test_connect_twiml_puts_the_caller_in_the_recorded_conference(client, org):
    from telephony.services.calls import offer_accept
    from telephony.services.receiving import call_receive
    from telephony.services.routing import acd_route
    from telephony.simulator import new_call_sid
    from tests.conftest import GENERAL_NUMBER, make_available, post_signed

    make_available(org.agent1)
    call = call_receive(sid=new_call_sid(), from_number="+821012345678", to_number=GENERAL_NUMBER)
    (offer,) = acd_route()
    offer_accept(agent=org.agent1, offer_id=offer.pk)
    path = f"/telephony/voice/connect/?offer={offer.pk}"
    response = post_signed(client, path, {"CallSid": call.sid, "CallStatus": "in-progress"})
    body = response.content.decode()
    # The caller enters the call's conference; the agent is added to it as a participant.
    assert f">call-{call.pk}</Conference>" in body
    assert 'record="record-from-start"' in body
    assert (
        post_signed(
            client, "/telephony/voice/connect/?offer=abc", {"CallSid": call.sid}
        ).status_code
        == 400
    )
