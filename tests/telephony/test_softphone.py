"""Browser softphone: the access-token endpoint and the indicator on the agent desktop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from django.test import override_settings
from django.urls import reverse

TOKEN_URL = "/telephony/token/"
KEY_SECRET = "k" * 32
TWILIO_SETTINGS = {
    "TELEPHONY_MODE": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_API_KEY_SID": "SK" + "2" * 32,
    "TWILIO_API_KEY_SECRET": KEY_SECRET,
    "TWILIO_TWIML_APP_SID": "AP" + "3" * 32,
    "TWILIO_TOKEN_TTL": 3600,
}


def get_token(client, person):
    client.force_login(person)
    return client.get(TOKEN_URL)


def decode(token: str) -> dict:
    return jwt.decode(token, KEY_SECRET, algorithms=["HS256"], options={"verify_aud": False})


@override_settings(**TWILIO_SETTINGS)
def test_it_issues_a_voice_token_for_the_agents_client_identity(client, org):
    response = get_token(client, org.agent1)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["identity"] == f"agent-{org.agent1.pk}"
    assert body["ttl"] == 3600
    claims = decode(body["token"])
    assert claims["iss"] == TWILIO_SETTINGS["TWILIO_API_KEY_SID"]
    assert claims["sub"] == TWILIO_SETTINGS["TWILIO_ACCOUNT_SID"]
    assert claims["grants"]["identity"] == f"agent-{org.agent1.pk}"
    voice = claims["grants"]["voice"]
    assert voice["incoming"] == {"allow": True}
    assert voice["outgoing"]["application_sid"] == TWILIO_SETTINGS["TWILIO_TWIML_APP_SID"]
    assert 0 < claims["exp"] - claims["nbf"] <= 3600


@override_settings(**{**TWILIO_SETTINGS, "TWILIO_TOKEN_TTL": 86400})
def test_token_lifetime_never_exceeds_one_hour(client, org):
    body = get_token(client, org.agent1).json()

    claims = decode(body["token"])
    assert body["ttl"] == 3600
    assert claims["exp"] - claims["nbf"] <= 3600


@override_settings(**{**TWILIO_SETTINGS, "TWILIO_TWIML_APP_SID": ""})
def test_token_without_twiml_app_only_receives_calls(client, org):
    claims = decode(get_token(client, org.lead1).json()["token"])

    assert claims["grants"]["voice"] == {"incoming": {"allow": True}}
    assert claims["grants"]["identity"] == f"agent-{org.lead1.pk}"


@override_settings(**TWILIO_SETTINGS)
@pytest.mark.parametrize("who", ["manager", "director", "trainer"])
def test_roles_that_take_no_calls_get_403(client, org, who):
    response = get_token(client, getattr(org, who))

    assert response.status_code == 403
    assert "error" in response.json()


@override_settings(**TWILIO_SETTINGS)
def test_anonymous_visitor_is_sent_to_log_in(client, org):
    response = client.get(TOKEN_URL)

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_simulated_mode_answers_409_with_a_reason(client, org):
    response = get_token(client, org.agent1)

    assert response.status_code == 409
    assert response.json()["mode"] == "simulated"
    assert response.json()["error"]


@override_settings(**{**TWILIO_SETTINGS, "TWILIO_API_KEY_SECRET": ""})
def test_unconfigured_twilio_answers_409_naming_what_is_missing(client, org):
    response = get_token(client, org.agent1)

    assert response.status_code == 409
    assert "TWILIO_API_KEY_SECRET" in response.json()["error"]


def test_desktop_shows_simulated_softphone_without_loading_the_sdk(client, org):
    client.force_login(org.agent1)

    html = client.get(reverse("desk:desktop")).content.decode()

    assert 'id="softphone"' in html
    assert 'data-mode="simulated"' in html
    assert 'data-status="simulated"' in html
    assert f'data-token-url="{TOKEN_URL}"' in html
    assert "twilio-voice/twilio.min.js" not in html
    assert "js/softphone.js" in html


@override_settings(**TWILIO_SETTINGS)
def test_desktop_in_twilio_mode_loads_the_vendored_sdk(client, org):
    client.force_login(org.agent1)

    html = client.get(reverse("desk:desktop")).content.decode()

    assert 'data-mode="twilio"' in html
    assert "vendor/twilio-voice/twilio.min.js" in html


def test_the_vendored_sdk_and_its_licence_are_present():
    vendor = Path(__file__).resolve().parents[2] / "static" / "vendor" / "twilio-voice"

    assert (vendor / "twilio.min.js").stat().st_size > 100_000
    assert "Apache" in (vendor / "LICENSE.md").read_text()


def _production_settings(**env) -> subprocess.CompletedProcess:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "callcenter.settings.production",
        "SECRET_KEY": "s" * 40,
        "ALLOWED_HOSTS": "sangdam.example.com",
        "PUBLIC_BASE_URL": "https://sangdam.example.com",
        "TELEPHONY_MODE": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; django.setup()"],
        env={**base, **env},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_in_twilio_mode_refuses_to_start_without_an_api_key():
    missing = _production_settings()
    complete = _production_settings(TWILIO_API_KEY_SID="SK" + "2" * 32, TWILIO_API_KEY_SECRET="x")

    assert missing.returncode != 0
    assert "TWILIO_API_KEY_SID" in missing.stderr
    assert complete.returncode == 0, complete.stderr
