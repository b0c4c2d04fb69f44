"""Issue 17, item 4: sessions on shared desks (callcenter/session_guard.py).

The idle timeout counts the person's actions, not the page's background polls (marked
`X-Sangdam-Background: 1` by static/js/sangdam.js's rule: no user event behind the
request); an absolute maximum runs from sign-in; every authenticated page and every API
answer carries `Cache-Control: no-store`.
"""

import pytest

from callcenter import session_guard

HOUR = 3600
PAGE = "/tickets/"
POLL = "/agents/desktop/offer-alert/"
API = "/api/tickets/"
POLL_HEADERS = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://testserver/agents/desktop/?tab=1",
    "HTTP_X_SANGDAM_BACKGROUND": "1",
}


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        t = 1_800_000_000.0

        def __call__(self):
            return self.t

        def at_hours(self, hours):
            self.t = 1_800_000_000.0 + hours * HOUR

    c = Clock()
    monkeypatch.setattr(session_guard, "now", c)
    return c


@pytest.fixture
def desk(client, org, clock, settings):
    settings.SESSION_IDLE_TIMEOUT = 9 * HOUR
    settings.SESSION_ABSOLUTE_TIMEOUT = 12 * HOUR
    client.force_login(org.agent1)
    assert client.get(PAGE).status_code == 200  # signed in at t = 0
    return client


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_actions_keep_the_session_and_idleness_ends_it(desk, clock, settings):
    settings.SESSION_ABSOLUTE_TIMEOUT = 48 * HOUR  # only the idle clock here
    for hours in (8, 16, 24.5):  # an action less than 9 h after the one before
        clock.at_hours(hours)
        assert desk.get(PAGE).status_code == 200, hours
    clock.at_hours(24.5 + 9)
    response = desk.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not signed_in(desk)


def test_polls_do_not_extend_the_session(desk, clock, settings):
    settings.SESSION_ABSOLUTE_TIMEOUT = 48 * HOUR
    for hours in (1, 3, 5, 7, 8.9):  # the desktop polling on an unattended desk
        clock.at_hours(hours)
        assert desk.get(POLL, **POLL_HEADERS).status_code == 200, hours
    clock.at_hours(9)
    response = desk.get(PAGE)  # the next person at the desk
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_poll_after_expiry_sends_the_browser_to_login(desk, clock):
    clock.at_hours(9)
    response = desk.get(POLL, **POLL_HEADERS)
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/login/?next=/agents/desktop/%3Ftab%3D1"
    assert not signed_in(desk)
    assert desk.get(PAGE).status_code == 302  # and it stays ended


def test_an_api_call_after_expiry_is_refused_with_json(desk, clock):
    assert desk.get(API).status_code == 200
    clock.at_hours(9.5)
    response = desk.get(API)
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_a_fetch_for_json_after_expiry_gets_401_json(desk, clock):
    clock.at_hours(10)
    response = desk.get(
        "/telephony/token/", HTTP_ACCEPT="application/json", HTTP_X_SANGDAM_BACKGROUND="1"
    )
    assert response.status_code == 401
    assert response.json()["login_url"].startswith("/login/")


def test_the_absolute_maximum_ends_a_busy_session(desk, clock):
    for hours in range(1, 12):  # an action every hour
        clock.at_hours(hours)
        assert desk.get(PAGE).status_code == 200, hours
    clock.at_hours(12)
    response = desk.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_signing_in_again_starts_both_clocks(desk, clock, org):
    clock.at_hours(12)
    assert desk.get(PAGE).status_code == 302
    desk.force_login(org.agent1)
    assert desk.get(PAGE).status_code == 200
    clock.at_hours(20)
    assert desk.get(PAGE).status_code == 200


def test_the_session_cookie_and_row_end_with_the_absolute_maximum(settings):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_TIMEOUT == 12 * HOUR
    assert settings.SESSION_IDLE_TIMEOUT == 9 * HOUR


@pytest.mark.parametrize("path", [PAGE, "/kpi/", "/agents/desktop/", POLL, API])
def test_authenticated_answers_are_not_stored(desk, path):
    response = desk.get(path, **(POLL_HEADERS if path == POLL else {}))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_api_answers_with_basic_auth_are_not_stored(client, org):
    import base64

    credentials = base64.b64encode(b"agent1:pw").decode()
    response = client.get(API, HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in client.get(API)["Cache-Control"]  # refused: no copy either


def test_static_files_are_served_before_the_no_store_middleware(settings):
    order = settings.MIDDLEWARE
    assert order.index("whitenoise.middleware.WhiteNoiseMiddleware") < order.index(
        "callcenter.session_guard.NoStoreMiddleware"
    )


def test_the_answer_that_ends_a_session_is_not_stored_and_carries_the_policy(desk, clock):
    clock.at_hours(9)
    response = desk.get(POLL, **POLL_HEADERS)
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response


def test_an_idle_session_that_owes_a_second_factor_is_ended_not_asked_for_a_code(
    client, org, clock, settings
):
    settings.SESSION_IDLE_TIMEOUT = 9 * HOUR
    settings.SESSION_ABSOLUTE_TIMEOUT = 12 * HOUR
    settings.OTP_REQUIRED_ROLES = ["manager"]
    client.force_login(org.manager)
    assert client.get(PAGE).status_code == 302  # owes the second factor: sent to enrol
    clock.at_hours(9.5)
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not signed_in(client)
