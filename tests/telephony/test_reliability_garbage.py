"""Garbage bodies → 4xx, never 5xx, and nothing changes.

Hypothesis builds form bodies and query strings for every Twilio webhook (discovered from
the URLconf, see test_reliability_signatures): Twilio's own keys with valid-looking values,
garbage in their place, keys missing, repeated, unknown keys, unicode, NUL characters,
numbers too big for any column, 70 kB values. Each body is correctly SIGNED, so it passes
the signature check and reaches the form and the services.

The oracle, per request, with the rows it might touch counted before and after:
- never a 5xx (an exception is a failure too);
- a 4xx changes nothing;
- a 2xx changes nothing either, except at the endpoints that legitimately store what a
  valid request brings (MAY_STORE below).

Each endpoint's expectation for a call Sangdam does not know:
- voice/incoming: creates the call if To is a department's number, else 200 "not in
  service" TwiML and no row (MAY_STORE).
- voice/queue/wait, voice/queue/result: 200 TwiML (hold loop / nothing), no row.
- voice/connect: 400 (no such offer for this call).
- voice/status, voice/recording: 204 and no row: a callback about nobody is dropped.
- voice/conference, voice/dial/result: 4xx for what they cannot place, no row.
- voice/hold: 200 hold music, always.
- voice/ivr: 400 for an unknown menu (this org has none).
- voice/voicemail: stores the recording even without a call (closed hours, MAY_STORE).
- sms/incoming: stores any well-formed message (MAY_STORE).
The second test replays the same garbage against calls Sangdam does know (queued, ringing
an agent, connected): then any 2xx may change rows, a 4xx still may not.
"""

from __future__ import annotations

import os
from contextlib import suppress
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.models import AgentStateInterval
from callcenter.dispatch import suppress_dispatch
from telephony.models import Call, CallEvent, Offer, SmsMessage, Voicemail
from telephony.services.calls import offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, SIGNUP_NUMBER, make_available, signature
from tests.telephony.reliability_support import webhook_urls

WEBHOOKS = webhook_urls()
MAY_STORE = {"voice-incoming", "voice-voicemail", "sms-incoming"}
COUNTED = (Call, CallEvent, Offer, AgentStateInterval, Voicemail, SmsMessage)


def row_counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in COUNTED)


# --- Strategies ------------------------------------------------------------------------


def sid(prefix: str) -> st.SearchStrategy[str]:
    return st.binary(min_size=16, max_size=16).map(lambda b: prefix + b.hex())


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
HUGE = st.sampled_from(["9" * 400, "x" * 70_000, "가" * 5_000, "\x00" * 8, "-" + "1" * 40])
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["nan", "inf", "-0", "1e309", "0x10", " 7 ", "٣"]),
)
GARBAGE = st.one_of(TEXT, HUGE, NUMBERS, sid("CA"), sid("RE"), st.just(""))
PHONES = st.sampled_from(
    [GENERAL_NUMBER, SIGNUP_NUMBER, "+821012345678", "010-2345-6789", "+8229999999", "anonymous"]
)
VALID = {
    "AccountSid": st.just("AC" + "0" * 32),
    "From": PHONES,
    "To": PHONES,
    "Caller": PHONES,
    "Called": PHONES,
    "CallStatus": st.sampled_from(
        ["queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer"]
    ),
    "Direction": st.sampled_from(["inbound", "outbound-api", "outbound-dial"]),
    "SequenceNumber": st.integers(0, 20).map(str),
    "CallDuration": st.integers(0, 4000).map(str),
    "RecordingSid": sid("RE"),
    "RecordingUrl": sid("RE").map(
        lambda s: f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Recordings/{s}"
    ),
    "RecordingStatus": st.sampled_from(["in-progress", "completed", "absent", "failed"]),
    "RecordingDuration": st.integers(-1, 600).map(str),
    "QueueResult": st.sampled_from(
        ["hangup", "redirected", "bridged", "leave", "queue-full", "error", "system-error"]
    ),
    "QueuePosition": st.integers(0, 50).map(str),
    "QueueTime": st.integers(0, 3600).map(str),
    "Digits": st.sampled_from(["1", "2", "9", "0", "*", "#", "12", "hangup"]),
    "SpeechResult": TEXT,
    "DialCallStatus": st.sampled_from(["completed", "busy", "no-answer", "failed", "canceled"]),
    "DialCallSid": sid("CA"),
    "ConferenceSid": sid("CF"),
    "FriendlyName": st.sampled_from(["call-1", "call-99999", "x"]),
    "StatusCallbackEvent": st.sampled_from(
        ["conference-start", "conference-end", "participant-join", "participant-leave", "hold"]
    ),
    "ParticipantLabel": st.sampled_from(["customer", "agent", "lead", "other"]),
    "MessageSid": sid("SM"),
    "Body": TEXT,
}
QUERY = {
    "offer": st.integers(0, 5).map(str),
    "call": st.integers(0, 5).map(str),
    "menu": st.integers(0, 3).map(str),
    "lang": st.sampled_from(["ko", "en", "fr"]),
    "tries": st.integers(0, 5).map(str),
    "reason": st.sampled_from(["closed", "full", "timeout", "menu", "?"]),
    "department": st.integers(0, 5).map(str),
}


def field(valid: st.SearchStrategy[str]) -> st.SearchStrategy:
    """Mostly a plausible value, sometimes garbage, repeated, or missing (None)."""
    return st.one_of(
        valid,
        valid,
        GARBAGE,
        st.lists(st.one_of(valid, GARBAGE), min_size=2, max_size=3),
        st.none(),
    )


@st.composite
def requests(draw, call_sids: list[str]):
    strategies = {**VALID, "CallSid": st.sampled_from(call_sids) if call_sids else sid("CA")}
    body = {key: draw(field(value)) for key, value in strategies.items()}
    body |= draw(
        st.dictionaries(TEXT.filter(bool), st.one_of(GARBAGE, st.lists(GARBAGE)), max_size=3)
    )
    query = {key: draw(field(value)) for key, value in QUERY.items()}
    clean = {k: v for k, v in body.items() if v is not None and v != []}
    return clean, {k: v for k, v in query.items() if v is not None and v != []}


class _Undo(Exception):
    """Rolls back whatever a request did, so each example starts from the same rows."""


def post_signed_garbage(client, path: str, body: dict, query: dict):
    url = path + ("?" + urlencode(query, doseq=True) if query else "")
    # Form-encoded, as Twilio posts; signed over every value of every key.
    signed = MultiValueDict({k: v if isinstance(v, list) else [v] for k, v in body.items()})
    with suppress(_Undo), suppress_dispatch(), transaction.atomic():
        before = row_counts()
        response = client.post(
            url,
            urlencode(body, doseq=True),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=signature(url, signed),
        )
        after = row_counts()
        raise _Undo
    return response, before, after


SETTINGS = settings(
    # RELIABILITY_EXAMPLES=500 for a deeper hunt; 12 per endpoint keeps the suite quick.
    max_examples=int(os.environ.get("RELIABILITY_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.mark.parametrize("path", sorted(WEBHOOKS))
@SETTINGS
@given(data=st.data())
def test_garbage_about_unknown_calls_is_refused_and_changes_nothing(client, org, path, data):
    body, query = data.draw(requests([]))
    response, before, after = post_signed_garbage(client, path, body, query)
    assert response.status_code < 500, response.content[:300]
    assert response.status_code != 403, "a correctly signed request was refused"
    if response.status_code >= 400 or WEBHOOKS[path] not in MAY_STORE:
        assert after == before, f"{response.status_code}: rows changed {before} → {after}"


@pytest.fixture
def known_calls(org):
    """A call waiting, one ringing an agent, one connected: garbage about real calls."""
    with suppress_dispatch():
        make_available(org.agent1, org.agent2)
        sids = [new_call_sid() for _ in range(3)]
        for i, call_sid in enumerate(sids):
            call_receive(sid=call_sid, from_number=f"+82107000{i:04d}", to_number=GENERAL_NUMBER)
        offers = acd_route(queue_id=org.q_general.pk)
        offer_accept(agent=offers[0].agent, offer_id=offers[0].pk)
    return sids


@pytest.mark.parametrize("path", sorted(WEBHOOKS))
@SETTINGS
@given(data=st.data())
def test_garbage_about_known_calls_never_errors_and_a_refusal_changes_nothing(
    client, org, known_calls, path, data
):
    body, query = data.draw(requests(known_calls))
    response, before, after = post_signed_garbage(client, path, body, query)
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert after == before, f"{response.status_code}: rows changed {before} → {after}"
