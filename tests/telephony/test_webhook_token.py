"""Issue 17, item 1: no forged webhook in any documented setup.

Production settings as docker-compose runs them (simulated mode, no TWILIO_AUTH_TOKEN) used
to verify webhooks with a token written in base.py, so anyone could forge calls and SMS.
The simulator's token is now derived from SECRET_KEY, and `check --deploy` fails when the
token webhooks are verified with can be read from the source.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.checks import run_checks
from twilio.request_validator import RequestValidator

from telephony.models import Call, SmsMessage
from telephony.security import simulator_auth_token, webhook_auth_token
from tests.conftest import GENERAL_NUMBER

ROOT = Path(__file__).resolve().parents[2]
OLD_CONSTANT = "simulated-auth-token"  # base.py's SIMULATOR_AUTH_TOKEN before issue 17
INCOMING = "/telephony/voice/incoming/"
SMS = "/telephony/sms/incoming/"


@pytest.fixture
def compose_like(settings):
    """docker-compose's production environment as the README shows it, simulated mode."""
    settings.TWILIO_AUTH_TOKEN = ""
    settings.TELEPHONY_MODE = "simulated"
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    return settings


def incoming_call():
    return {
        "CallSid": "CA" + "f1" * 16,
        "AccountSid": "AC" + "0" * 32,
        "From": "010-2222-3333",
        "To": GENERAL_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }


def an_sms():
    return {
        "MessageSid": "MM" + "f2" * 16,
        "AccountSid": "AC" + "0" * 32,
        "From": "010-5555-6666",
        "To": GENERAL_NUMBER,
        "Body": "forged",
        "NumMedia": "0",
    }


def post(client, path, params, token):
    url = settings.PUBLIC_BASE_URL + path
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_a_webhook_signed_with_the_old_constant_is_refused_and_stores_nothing(
    client, org, compose_like
):
    assert post(client, INCOMING, incoming_call(), OLD_CONSTANT).status_code == 403
    assert post(client, SMS, an_sms(), OLD_CONSTANT).status_code == 403
    assert not Call.objects.exists()
    assert not SmsMessage.objects.exists()


def test_the_simulator_still_signs_what_web_accepts(client, org, compose_like):
    token = webhook_auth_token()
    assert token and token != OLD_CONSTANT
    assert post(client, INCOMING, incoming_call(), token).status_code == 200
    assert post(client, SMS, an_sms(), token).status_code == 200
    assert Call.objects.count() == 1 and SmsMessage.objects.count() == 1


def test_the_simulator_token_is_the_same_in_every_process_of_one_deployment():
    """web and the worker (the simulator) share SECRET_KEY, not a token: same key, same
    token, computed again in another process; another key, another token."""
    key = secrets.token_urlsafe(50)
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from telephony.security import simulator_auth_token;"
            f"print(simulator_auth_token({key!r}))",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "callcenter.settings.test"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.stdout.strip() == simulator_auth_token(key)
    assert simulator_auth_token(secrets.token_urlsafe(50)) != simulator_auth_token(key)
    assert simulator_auth_token("") == ""


def deploy_errors():
    return {m.id for m in run_checks(include_deployment_checks=True) if m.id.startswith("tel")}


def test_the_deploy_check_names_a_secret_key_written_in_the_source(compose_like):
    assert deploy_errors() == set()
    for key in (
        "local-dev-only-not-secret",  # local.py's default
        "build-only-not-a-secret-0123456789abcdef",  # the Dockerfile's collectstatic key
    ):
        compose_like.SECRET_KEY = key
        assert deploy_errors() == {"telephony.E002"}


def test_the_deploy_check_names_a_twilio_token_written_in_the_source(compose_like):
    compose_like.TWILIO_AUTH_TOKEN = "test-auth-token"  # test.py's
    assert deploy_errors() == {"telephony.E001"}
    compose_like.TWILIO_AUTH_TOKEN = secrets.token_hex(16)
    assert deploy_errors() == set()


def test_check_deploy_fails_in_the_bad_state_with_production_settings():
    """`manage.py check --deploy` with docker-compose's production variables and the
    Dockerfile's build-time key (readable in the repository) as SECRET_KEY."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")},
            "DJANGO_SETTINGS_MODULE": "callcenter.settings.production",
            "SECRET_KEY": "build-only-not-a-secret-0123456789abcdef",
            "PUBLIC_BASE_URL": "https://sangdam.example.com",
            "ALLOWED_HOSTS": "127.0.0.1,web,localhost",
            "TELEPHONY_MODE": "simulated",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "telephony.E002" in result.stderr
