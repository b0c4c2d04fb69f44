"""Two-factor sign-in (django-otp): who must use it, enrolment with a QR code, the verify
step after the password, recovery codes, password change and the admin's reset link."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from agents.models import Person, Role
from agents.signin.services import recovery_codes_issue

PRODUCTION_ROLES = ["admin", "director", "manager"]
SETUP = "/account/two-factor/setup/"
VERIFY = "/account/two-factor/"


def password_login(client: Client, username: str, password: str = "pw", next_url: str = ""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    response = client.post("/login/", data)
    assert response.status_code == 302, response.content[:300]
    return response


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def enrolled(person: Person) -> TOTPDevice:
    return TOTPDevice.objects.create(user=person, name="authenticator", confirmed=True)


@pytest.fixture
def superuser(db):
    return Person.objects.create_superuser("boss", password="pw", role=Role.ADMIN)


def test_production_settings_require_admin_director_and_manager():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callcenter.settings.production",
        "SECRET_KEY": "x" * 40,
        "ALLOWED_HOSTS": "sangdam.example.com",
        "PUBLIC_BASE_URL": "https://sangdam.example.com",
    }
    env.pop("OTP_REQUIRED_ROLES", None)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.OTP_REQUIRED_ROLES)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == str(PRODUCTION_ROLES)


@override_settings(OTP_REQUIRED_ROLES=PRODUCTION_ROLES)
@pytest.mark.parametrize("who", ["director", "manager", "superuser"])
def test_required_roles_are_sent_to_enrolment_before_anything_else(client, org, superuser, who):
    person = superuser if who == "superuser" else getattr(org, who)
    password_login(client, person.username)

    for path in ["/", "/kpi/", "/admin/", "/tickets/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(SETUP), path
    api = client.get("/api/people/")
    assert api.status_code == 403
    assert client.get(SETUP).status_code == 200


@override_settings(OTP_REQUIRED_ROLES=["team_lead"])
def test_a_fragment_request_sends_the_whole_page_to_enrolment(client, org):
    password_login(client, "lead1")
    response = client.get(
        "/agents/team/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/agents/team/?tab=inbox",
    )
    assert response.status_code == 401  # htmx follows a 302 and swaps the page into a part
    assert response["HX-Redirect"] == SETUP + "?next=%2Fagents%2Fteam%2F%3Ftab%3Dinbox"


@override_settings(OTP_REQUIRED_ROLES=PRODUCTION_ROLES)
def test_roles_not_listed_sign_in_with_the_password_alone(client, org):
    password_login(client, "agent1")
    assert client.get("/agents/desktop/").status_code == 200


@override_settings(OTP_REQUIRED_ROLES=["agent"])
def test_the_setting_extends_it_to_other_roles(client, org):
    password_login(client, "agent1")
    assert client.get("/agents/desktop/")["Location"].startswith(SETUP)


# django-otp makes a device wait 1 s after a wrong code (doubling): off where a test retries.
@override_settings(OTP_REQUIRED_ROLES=PRODUCTION_ROLES, OTP_TOTP_THROTTLE_FACTOR=0)
def test_enrolment_shows_an_inline_qr_code_then_recovery_codes_once(client, org):
    password_login(client, "manager1", next_url="/kpi/")
    first = client.get("/kpi/")
    assert first["Location"] == f"{SETUP}?next=%2Fkpi%2F"

    page = client.get(first["Location"]).content.decode()
    assert "<svg" in page and "<script>" not in page.split("</header>")[1]
    device = TOTPDevice.objects.get(user=org.manager, confirmed=False)
    assert client.post(SETUP, {"otp_token": "000000", "next": "/kpi/"}).status_code == 400

    done = client.post(SETUP, {"otp_token": code_for(device), "next": "/kpi/"})

    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == settings.OTP_RECOVERY_CODES
    assert client.get("/kpi/").status_code == 200  # verified for this session
    device.refresh_from_db()
    assert device.confirmed


@override_settings(OTP_REQUIRED_ROLES=PRODUCTION_ROLES, OTP_TOTP_THROTTLE_FACTOR=0)
def test_verify_step_after_the_password_lands_where_the_login_would(client, org):
    device = enrolled(org.director)
    login = password_login(client, "director")
    landing = client.get(login["Location"])
    assert landing["Location"].startswith(VERIFY)

    wrong = client.post(VERIFY, {"otp_token": "123456", "next": "/"})
    assert wrong.status_code == 400
    right = client.post(VERIFY, {"otp_token": code_for(device), "next": "/"})

    assert right["Location"] == "/"
    assert client.get("/").status_code == 302  # home redirects by role, as today
    assert not client.get("/")["Location"].startswith(VERIFY)
    assert client.get("/api/people/").status_code == 200


def test_someone_who_enrolled_voluntarily_is_asked_too(client, org):
    enrolled(org.agent1)
    password_login(client, "agent1")
    assert client.get("/agents/desktop/")["Location"].startswith(VERIFY)


def test_a_recovery_code_works_once(client, org):
    enrolled(org.manager)
    code = recovery_codes_issue(person=org.manager)[0]

    password_login(client, "manager1")
    assert client.post(VERIFY, {"otp_token": code.upper()})["Location"] == "/"
    assert client.get("/kpi/").status_code == 200

    client.logout()
    password_login(client, "manager1")
    again = client.post(VERIFY, {"otp_token": code})
    assert again.status_code == 400
    assert client.get("/kpi/")["Location"].startswith(VERIFY)


def test_basic_auth_is_refused_for_an_account_with_two_factor(client, org):
    enrolled(org.manager)
    raw = base64.b64encode(b"manager1:pw").decode()
    response = client.get("/api/people/", HTTP_AUTHORIZATION=f"Basic {raw}")
    assert response.status_code in {401, 403}
    plain = base64.b64encode(b"agent1:pw").decode()
    assert client.get("/api/people/", HTTP_AUTHORIZATION=f"Basic {plain}").status_code == 200


def test_password_change_for_everyone(client, org):
    client.force_login(org.agent1)
    page = client.get("/agents/desktop/").content.decode()
    assert reverse("signin:password-change") in page  # linked from the top bar

    response = client.post(
        reverse("signin:password-change"),
        {
            "old_password": "pw",
            "new_password1": "a-long-new-passphrase-7",
            "new_password2": "a-long-new-passphrase-7",
        },
    )

    assert response["Location"] == reverse("signin:password-change-done")
    org.agent1.refresh_from_db()
    assert org.agent1.check_password("a-long-new-passphrase-7")
    assert client.get(reverse("signin:password-change-done")).status_code == 200
    wrong = client.post(
        reverse("signin:password-change"),
        {"old_password": "nope", "new_password1": "x1-long-pass", "new_password2": "x1-long-pass"},
    )
    assert wrong.status_code == 200 and "error" in wrong.content.decode()


def test_admin_reset_link_works_once_and_ends_the_old_password(client, org, superuser):
    victim = Client()
    victim.force_login(org.agent1)
    for _ in range(settings.AXES_FAILURE_LIMIT):  # locked out: often why the reset is asked for
        Client().post("/login/", {"username": "agent1", "password": "forgotten"})
    admin = Client()
    admin.force_login(superuser)

    page = admin.post(
        reverse("admin:agents_person_changelist"),
        {"action": "password_reset_links", "_selected_action": [org.agent1.pk]},
    )

    assert page.status_code == 200
    link = re.search(r'<code class="reset-link">([^<]+)</code>', page.content.decode())[1]
    assert link.startswith(settings.PUBLIC_BASE_URL)
    org.agent1.refresh_from_db()
    assert not org.agent1.has_usable_password()
    assert victim.get("/agents/desktop/").status_code == 302  # their session ended

    path = link.removeprefix(settings.PUBLIC_BASE_URL)
    form = client.get(path, follow=True)
    assert form.status_code == 200 and 'name="new_password1"' in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "fresh-passphrase-42", "new_password2": "fresh-passphrase-42"},
    )
    assert done["Location"] == reverse("signin:password-reset-complete")
    org.agent1.refresh_from_db()
    assert org.agent1.check_password("fresh-passphrase-42")
    assert Client().post("/login/", {"username": "agent1", "password": "fresh-passphrase-42"})[
        "Location"
    ] == reverse("home")

    again = client.get(path, follow=True)
    assert 'name="new_password1"' not in again.content.decode()
    assert "유효하지 않습니다" in again.content.decode()


def test_a_quick_retry_after_wrong_codes_is_throttled(client, org):
    device = enrolled(org.manager)
    password_login(client, "manager1")
    assert client.post(VERIFY, {"otp_token": "123456"}).status_code == 400

    right_too_soon = client.post(VERIFY, {"otp_token": code_for(device)})

    assert right_too_soon.status_code == 400
    assert "잠시 후 다시 시도하세요" in right_too_soon.content.decode()


def test_enrolling_ends_the_sessions_signed_in_with_the_password_alone(client, org):
    elsewhere = Client()
    elsewhere.force_login(org.agent1)
    assert elsewhere.get("/agents/desktop/").status_code == 200  # nothing owed, remembered
    client.force_login(org.agent1)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=org.agent1, confirmed=False)

    assert client.post(SETUP, {"otp_token": code_for(device)}).status_code == 200

    assert client.get("/agents/desktop/").status_code == 200
    assert elsewhere.get("/agents/desktop/")["Location"].startswith(reverse("login"))
