"""Issue 17, item 5: production headers.

`manage.py check --deploy` with the README's production variables prints no warning; HSTS
and the HTTPS redirect hold behind the TLS proxy while the health check and the simulator's
webhooks, which reach web:8000 over plain HTTP inside the network, keep working; a
Content-Security-Policy without inline script is sent in every settings module; no
template holds inline script, an on* handler or a javascript: URL.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from telephony.models import Call
from telephony.simulator import HttpTransport, Simulator
from tests.conftest import GENERAL_NUMBER

ROOT = Path(__file__).resolve().parents[2]
# README "Deployment" and docker-compose.yml's x-env, as `docker compose up` passes them.
COMPOSE_ENV = {
    "DJANGO_SETTINGS_MODULE": "callcenter.settings.production",
    "DATABASE_URL": "postgres://sangdam:sangdam@postgres:5432/sangdam",
    "REDIS_URL": "redis://redis:6379/0",
    "ALLOWED_HOSTS": "127.0.0.1,web,localhost",
    "PUBLIC_BASE_URL": "https://sangdam.example.com",
    "SIMULATOR_TARGET_URL": "http://web:8000",
    "TELEPHONY_MODE": "simulated",
    "SECURE_COOKIES": "true",
    "TRUSTED_PROXY_COUNT": "1",
}
TWILIO_ENV = {
    "TELEPHONY_MODE": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
    "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
    "TWILIO_API_KEY_SID": "SK" + secrets.token_hex(16),
    "TWILIO_API_KEY_SECRET": secrets.token_hex(16),
}


def production(*args, **extra_env):
    # Only what a container has besides compose's variables (not this test run's own, such
    # as DJANGO_ALLOW_ASYNC_UNSAFE set by the browser tests).
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(COMPOSE_ENV, SECRET_KEY=secrets.token_urlsafe(50))
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def deploy_warnings(**extra_env):
    result = production("manage.py", "check", "--deploy", **extra_env)
    assert result.returncode == 0, result.stderr
    found = re.findall(r"^\?: \(([\w.]+)\)", result.stdout + result.stderr, re.M)
    return found, result


@pytest.mark.parametrize("mode", ["simulated", "twilio"])
def test_check_deploy_with_the_readme_production_variables_prints_no_warning(mode):
    warnings, result = deploy_warnings(**(TWILIO_ENV if mode == "twilio" else {}))
    assert warnings == [], result.stdout + result.stderr


def production_settings(**extra_env):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS',"
        "'SECURE_HSTS_PRELOAD', 'SECURE_PROXY_SSL_HEADER', 'SECURE_REFERRER_POLICY',"
        "'CONTENT_SECURITY_POLICY', 'MIDDLEWARE')}))"
    )
    result = production("-c", code, **extra_env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_sends_hsts_and_redirects_to_https_and_plain_http_trial_does_not():
    s = production_settings()
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["SECURE_REFERRER_POLICY"] in ("same-origin", "strict-origin-when-cross-origin")
    assert "csp.middleware.CSPMiddleware" in s["MIDDLEWARE"]
    # README: "To try it over plain HTTP, use PUBLIC_BASE_URL=http://localhost:8000 …"
    plain = production_settings(PUBLIC_BASE_URL="http://localhost:8000", SECURE_COOKIES="false")
    assert plain["SECURE_SSL_REDIRECT"] is False and plain["SECURE_HSTS_SECONDS"] == 0


def test_the_csp_allows_twilio_only_in_twilio_mode():
    simulated = production_settings()["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    twilio = production_settings(**TWILIO_ENV)["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert simulated["connect-src"] == ["'self'"] and simulated["media-src"] == ["'self'"]
    assert "wss://*.twilio.com" in twilio["connect-src"]
    assert "https://sdk.twilio.com" in twilio["media-src"] and "'self'" in twilio["media-src"]
    for directives in (simulated, twilio):
        assert directives["script-src"] == ["'self'"]
        assert directives["style-src"] == ["'self'"]
        assert directives["object-src"] == ["'none'"]


@pytest.fixture
def behind_the_proxy(settings):
    """production.py's HTTPS settings (test.py keeps the rest)."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 365 * 24 * 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    return settings


def test_behind_the_proxy_https_gets_hsts_and_plain_http_is_redirected(
    client, db, behind_the_proxy
):
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert response["Referrer-Policy"] == "same-origin"
    redirect = client.get("/login/")
    assert redirect.status_code == 301 and redirect["Location"].startswith("https://")


def test_the_compose_health_check_passes_behind_the_https_redirect(client, db, behind_the_proxy):
    """docker-compose.yml's health check, run here against the test client."""
    compose = (ROOT / "docker-compose.yml").read_text()
    check = re.search(
        r"u\.Request\('http://127\.0\.0\.1:8000(/[^']*)', headers=(\{[^}]*\})", compose
    )
    assert check, "the health check sends X-Forwarded-Proto"
    path, headers = check.group(1), eval(check.group(2))  # noqa: S307 - our own literal
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    assert client.get(path, HTTP_HOST="127.0.0.1", **meta).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_simulator_posts_over_plain_http_to_web_behind_the_https_redirect(
    live_server, org, behind_the_proxy
):
    """docker-compose: the simulator signs for PUBLIC_BASE_URL (https) and posts to
    http://web:8000; here the live server stands in for web."""
    behind_the_proxy.SIMULATOR_TARGET_URL = live_server.url
    Simulator(HttpTransport()).place_call(from_number="010-2222-3333", to_number=GENERAL_NUMBER)
    assert Call.objects.filter(from_number__endswith="22223333").exists()


@pytest.mark.parametrize("path", ["/login/", "/status/"])
def test_every_answer_carries_the_content_security_policy(client, db, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    script = re.search(r"script-src ([^;]*)", policy).group(1)
    assert script == "'self'"
    assert "style-src 'self'" in policy and "object-src 'none'" in policy


TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<[^>]*\son[a-z]+\s*=", re.I), "on* handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"<style", re.I), "inline <style>"),
    (re.compile(r"hx-on|hx-vars|hx-vals=['\"]js:", re.I), "htmx attribute evaluated as code"),
]


def test_no_template_holds_script_the_policy_refuses():
    found = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text()
            for pattern, what in INLINE:
                for match in pattern.finditer(text):
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
            for trigger in re.findall(r'hx-trigger="([^"]*)"', text):
                # `[…]` outside a from:/target: CSS selector is a filter, run as code.
                if "[" in re.sub(r"\b(from|target):\S+", "", trigger):
                    found.append(f"{path.relative_to(ROOT)}: hx-trigger filter {trigger!r}")
    assert found == []


def test_htmx_injects_no_indicator_style():
    for page in (ROOT / "templates/base.html", ROOT / "kpi/templates/kpi/wallboard.html"):
        config = re.search(r"name=\"htmx-config\" content='([^']*)'", page.read_text())
        assert json.loads(config.group(1))["includeIndicatorStyles"] is False, page


def test_a_short_secret_key_stops_production_with_a_clear_message():
    result = production("manage.py", "check", SECRET_KEY="too-short")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be at least 32 characters" in result.stderr


def test_check_deploy_warns_when_the_proxy_hides_every_clients_address():
    warnings, _ = deploy_warnings(TRUSTED_PROXY_COUNT="0")
    assert warnings == ["agents.W001"]


def test_a_misspelt_role_in_otp_required_roles_stops_the_checks():
    result = production("manage.py", "check", OTP_REQUIRED_ROLES="admin,directer")
    assert result.returncode != 0
    assert "agents.E001" in result.stderr and "directer" in result.stderr
