"""Login throttling (django-axes): per user, per address, on every credential path, with
an admin unlock, and the password hasher never runs for a locked-out attempt."""

from __future__ import annotations

import base64
import logging

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from agents.models import Person, Role

LIMIT = 5  # AXES_FAILURE_LIMIT's default
ADDRESS_LIMIT = 20


class CountingHasher(MD5PasswordHasher):
    """The test hasher, counting how often a password is hashed."""

    calls = 0

    def encode(self, password, salt, *args, **kwargs):
        CountingHasher.calls += 1
        return super().encode(password, salt, *args, **kwargs)


def login(client, username, password, *, address="10.0.0.1", path="/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, username, times, **kwargs):
    """The last of `LIMIT` failures is itself answered with the lockout page."""
    for attempt in range(1, times + 1):
        response = login(client, username, "wrong-password", **kwargs)
        assert response.status_code == (429 if attempt == LIMIT else 200), attempt


def basic(username, password):
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


def test_a_user_is_locked_after_the_limit_from_any_address(client, org):
    fail(client, "agent1", LIMIT, address="10.0.0.1")

    response = login(client, "agent1", "pw", address="10.0.0.2")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "로그인이 잠시 차단되었습니다" in page  # Korean by default
    # Someone else at the first address is not affected (below the address limit).
    assert login(client, "agent2", "pw", address="10.0.0.1").status_code == 302


def test_an_address_is_locked_after_its_limit_whatever_the_user(client, org):
    for i in range(ADDRESS_LIMIT):
        login(client, f"nobody{i}", "guess", address="10.0.0.9")

    assert login(client, "agent2", "pw", address="10.0.0.9").status_code == 429
    assert login(client, "agent2", "pw", address="10.0.0.8").status_code == 302


def test_admin_login_is_locked_too(client, db):
    Person.objects.create_superuser("boss", password="pw", role=Role.ADMIN)
    fail(client, "boss", LIMIT, path="/admin/login/")

    response = login(client, "boss", "pw", path="/admin/login/")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_api_basic_auth_is_locked_and_answers_429(client, org):
    for attempt in range(1, LIMIT + 1):
        status = client.get("/api/people/", **basic("agent1", "wrong")).status_code
        assert status == (429 if attempt == LIMIT else 403), attempt  # DRF: session first

    response = client.get("/api/people/", **basic("agent1", "pw"))

    assert response.status_code == 429
    assert AccessAttempt.objects.filter(username="agent1", path_info="/api/people/").exists()


def test_a_locked_out_attempt_never_reaches_the_password_hasher(client, org):
    with override_settings(PASSWORD_HASHERS=[f"{__name__}.CountingHasher"]):
        fail(client, "agent1", LIMIT)
        CountingHasher.calls = 0

        assert login(client, "agent1", "pw").status_code == 429
        assert login(client, "agent1", "wrong-again").status_code == 429
        assert client.get("/api/people/", **basic("agent1", "pw")).status_code == 429

        assert CountingHasher.calls == 0


def test_unlock_by_admin_command_and_admin_page(client, org):
    fail(client, "agent1", LIMIT)
    assert login(client, "agent1", "pw").status_code == 429

    call_command("axes_reset_username", "agent1")
    assert login(client, "agent1", "pw").status_code == 302

    client.logout()
    fail(client, "agent1", LIMIT, address="10.0.0.3")
    assert login(client, "agent1", "pw", address="10.0.0.3").status_code == 429
    admin = Person.objects.create_superuser("boss", password="pw", role=Role.ADMIN)
    staff = client.__class__()
    staff.force_login(admin)
    attempts = list(AccessAttempt.objects.filter(username="agent1").values_list("pk", flat=True))
    response = staff.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    assert response.status_code == 302
    assert login(client, "agent1", "pw", address="10.0.0.3").status_code == 302


def test_failed_logins_are_logged_and_stored_without_the_password(client, org, caplog):
    secret = "Sup3r-secret-guess"
    with caplog.at_level(logging.INFO):
        login(client, "agent1", secret)

    assert "agent1" in caplog.text
    assert secret not in caplog.text
    attempt = AccessAttempt.objects.get(username="agent1")
    assert secret not in attempt.post_data
    assert attempt.ip_address == "10.0.0.1"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_the_forwarded_client_is_the_address(client, org):
    for i in range(ADDRESS_LIMIT):
        client.post(
            "/login/",
            {"username": f"x{i}", "password": "x"},
            REMOTE_ADDR="172.16.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    other = client.post(
        "/login/",
        {"username": "agent2", "password": "pw"},
        REMOTE_ADDR="172.16.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert other.status_code == 302  # the proxy's own address is not what was locked
    client.logout()
    same = client.post(
        "/login/",
        {"username": "agent3", "password": "pw"},
        REMOTE_ADDR="172.16.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    assert same.status_code == 429  # the client behind it is


@pytest.fixture(autouse=True)
def _fresh_hashers():
    yield
    CountingHasher.calls = 0
