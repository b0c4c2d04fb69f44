"""telephony.security.signature_is_valid: the exact-URL check first, the SDK's validate()
for everything else, with the same answers as validate() alone."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.conf import settings
from django.test import RequestFactory
from twilio.request_validator import RequestValidator

from telephony.security import signature_is_valid

PATH = "/telephony/voice/status/"
FORM = {"CallSid": "CA" + "1" * 32, "CallStatus": "completed"}


def signed(url: str, params) -> str:
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)


@pytest.mark.parametrize("variant", ["exact", "with port", "other path", "garbage"])
def test_form_bodies(variant, settings):
    settings.PUBLIC_BASE_URL = "https://testserver"
    url = {
        "exact": "https://testserver" + PATH,
        "with port": "https://testserver:443" + PATH,
        "other path": "https://testserver/telephony/voice/other/",
        "garbage": None,
    }[variant]
    sig = signed(url, FORM) if url else "x" * 28
    request = RequestFactory().post(PATH, FORM, HTTP_X_TWILIO_SIGNATURE=sig)
    assert signature_is_valid(request) is (variant in {"exact", "with port"})


@pytest.mark.parametrize("tampered", [False, True])
def test_a_json_body_signed_by_hash_is_checked_against_its_hash(tampered, settings):
    settings.PUBLIC_BASE_URL = "https://testserver"
    body = json.dumps({"CallSid": "CA" + "2" * 32})
    path = f"{PATH}?bodySHA256={hashlib.sha256(body.encode()).hexdigest()}"
    sent = body.replace("2", "3") if tampered else body
    request = RequestFactory().post(
        path,
        sent,
        content_type="application/json",
        HTTP_X_TWILIO_SIGNATURE=signed("https://testserver" + path, {}),
    )
    assert signature_is_valid(request) is not tampered


def test_an_empty_body_hash_is_refused_not_a_server_error(settings):
    settings.PUBLIC_BASE_URL = "https://testserver"
    path = f"{PATH}?bodySHA256="
    request = RequestFactory().post(
        path, "not a form", content_type="application/json", HTTP_X_TWILIO_SIGNATURE="x" * 28
    )
    assert signature_is_valid(request) is False
