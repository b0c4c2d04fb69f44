"""Every Twilio webhook rejects a bad signature with 403 and accepts the URL Twilio signed
with or without the default port, also behind a TLS proxy.

The webhook URLs are discovered from the URLconf: every pattern whose view carries the
`twilio_webhook` mark that `telephony.security.twilio_webhook` sets, so a webhook added
later is covered without touching this file.
"""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import URLResolver, get_resolver

from tests.conftest import signature
from tests.telephony.reliability_support import route_of, webhook_urls

PUBLIC = "https://sangdam.example.com"
KNOWN_WEBHOOKS = {
    "/telephony/voice/incoming/",
    "/telephony/voice/queue/wait/",
    "/telephony/voice/queue/result/",
    "/telephony/voice/connect/",
    "/telephony/voice/status/",
    "/telephony/voice/recording/",
}
# A body every webhook form reads at least in part; the signature check never looks at it.
BODY = {
    "AccountSid": "AC" + "0" * 32,
    "CallSid": "CA" + "e5" * 16,
    "From": "+821012345678",
    "To": "+8225550103",
    "CallStatus": "ringing",
    "ApiVersion": "2010-04-01",
}
REJECTED = b"invalid Twilio signature"


WEBHOOKS = sorted(webhook_urls())


def test_the_known_webhooks_are_discovered():
    assert KNOWN_WEBHOOKS <= set(WEBHOOKS)


def test_every_voice_and_sms_url_is_a_signed_webhook():
    """A Twilio-facing URL without `twilio_webhook` would accept anyone's request."""

    def all_paths(patterns, prefix="/"):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from all_paths(entry.url_patterns, prefix + route_of(entry))
            else:
                yield prefix + route_of(entry)

    twilio_facing = {
        path
        for path in all_paths(get_resolver().url_patterns)
        if path.startswith(("/telephony/voice/", "/telephony/sms/"))
    }
    assert twilio_facing - set(WEBHOOKS) == set()


def post(client, path, *, signed_url: str | None, query: str = "", **extra):
    headers = {}
    if signed_url is not None:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature(signed_url, BODY)
    return client.post(path + query, BODY, **headers, **extra)


def accepted(response) -> bool:
    """The signature gate let the request through (the view may still refuse the body)."""
    return response.status_code != 403 and REJECTED not in response.content


@pytest.mark.parametrize("path", WEBHOOKS)
def test_it_rejects_a_bad_signature_with_403(client, org, path):
    wrong_token = signature(PUBLIC + path, BODY, token="not-the-token")
    for response in (
        client.post(path, BODY, HTTP_X_TWILIO_SIGNATURE=wrong_token),
        client.post(path, BODY),  # none at all
        client.post(path, BODY, HTTP_X_TWILIO_SIGNATURE=""),
        post(client, path, signed_url=PUBLIC + "/telephony/other/"),  # another URL's
        post(client, path, signed_url="http://internal:8000" + path),  # what Django sees
        post(client, path, signed_url=PUBLIC + path, query="?offer=1"),  # query not signed
        client.post(
            path,
            {**BODY, "CallStatus": "completed"},  # a body other than the one signed
            HTTP_X_TWILIO_SIGNATURE=signature(PUBLIC + path, BODY),
        ),
        client.get(path, BODY, HTTP_X_TWILIO_SIGNATURE=signature(PUBLIC + path, BODY)),
    ):
        assert response.status_code == 403


@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize("base", [PUBLIC, PUBLIC + ":443"])
@pytest.mark.parametrize("signed_base", [PUBLIC, PUBLIC + ":443"])
def test_it_accepts_the_url_with_and_without_the_port(client, org, path, base, signed_base):
    with override_settings(PUBLIC_BASE_URL=base):
        response = post(client, path, signed_url=signed_base + path)
    assert accepted(response), response.content
    assert response.status_code < 500


@pytest.mark.parametrize("path", WEBHOOKS)
def test_it_validates_against_the_public_url_behind_a_tls_proxy(client, org, path):
    """Django sees http://internal:8000 (the proxy's upstream); Twilio signed the public
    https URL, which is what PUBLIC_BASE_URL says."""
    for query in ("", "?offer=1"):
        response = post(
            client,
            path,
            signed_url=PUBLIC + path + query,
            query=query,
            HTTP_HOST="internal:8000",
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_FOR="54.172.60.1",
            SERVER_PORT="8000",
        )
        assert accepted(response), response.content
        assert response.status_code < 500
