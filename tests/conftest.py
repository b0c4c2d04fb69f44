"""Shared personas in one small org, signing helpers, a real in-process Celery worker, and
the rule that a test needing PostgreSQL, Redis or Chromium skips on a bare machine but
fails in CI."""

from __future__ import annotations

import os
import shutil
from types import SimpleNamespace

import pytest
from django.conf import settings
from twilio.request_validator import RequestValidator

from agents.models import AgentState, DepartmentKind, Person, Role
from agents.services.states import agent_set_state
from tests.factories import (
    CenterFactory,
    DepartmentFactory,
    DispositionFactory,
    PersonFactory,
    QueueMembershipFactory,
    TeamFactory,
)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
GENERAL_NUMBER = "+8225550103"
SIGNUP_NUMBER = "+8225550101"
CHROMIUM = "/usr/bin/chromium"


def _needs(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must run this test: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item):
    if (
        item.get_closest_marker("postgres")
        and "postgresql" not in settings.DATABASES["default"]["ENGINE"]
    ):
        _needs("needs PostgreSQL: set DATABASE_URL=postgres://…")
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        _needs("needs Redis: set REDIS_URL=redis://…")
    if item.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        _needs(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture
def org(db):
    """Two departments; 일반 has teams A (lead1, agent1, agent2) and B (lead2, agent3);
    가입 has team C (lead3, agent4). manager1 manages 일반 only."""
    center = CenterFactory(name="테스트 센터")
    general = DepartmentFactory(
        center=center,
        name="일반",
        kind=DepartmentKind.GENERAL,
        phone_number=GENERAL_NUMBER,
        queue__reservation_timeout_seconds=20,
        queue__wrapup_seconds=60,
    )
    signup = DepartmentFactory(
        center=center, name="가입", kind=DepartmentKind.SIGNUP, phone_number=SIGNUP_NUMBER
    )
    q_general, q_signup = general.queue, signup.queue
    for dept in (general, signup):
        DispositionFactory(department=dept)
        DispositionFactory(department=dept, callback=True)
    team_a = TeamFactory(department=general, name="일반 A")
    team_b = TeamFactory(department=general, name="일반 B")
    team_c = TeamFactory(department=signup, name="가입 C")
    director = PersonFactory(username="director", director=True, center=center)
    trainer = PersonFactory(username="trainer1", role=Role.TRAINING_LEAD, center=center)
    manager = PersonFactory(
        username="manager1", manager=True, center=center, managed_departments=[general]
    )
    lead1 = PersonFactory(username="lead1", team_lead=True, team=team_a, reports_to=manager)
    lead2 = PersonFactory(username="lead2", team_lead=True, team=team_b, reports_to=manager)
    lead3 = PersonFactory(username="lead3", team_lead=True, team=team_c)
    agents = {}
    for name, team, queue in [
        ("agent1", team_a, q_general),
        ("agent2", team_a, q_general),
        ("agent3", team_b, q_general),
        ("agent4", team_c, q_signup),
    ]:
        agents[name] = PersonFactory(
            username=name, team=team, reports_to={team_a: lead1, team_b: lead2, team_c: lead3}[team]
        )
        QueueMembershipFactory(person=agents[name], queue=queue)
    return SimpleNamespace(
        center=center,
        general=general,
        signup=signup,
        q_general=q_general,
        q_signup=q_signup,
        team_a=team_a,
        team_b=team_b,
        team_c=team_c,
        director=director,
        trainer=trainer,
        manager=manager,
        lead1=lead1,
        lead2=lead2,
        lead3=lead3,
        **agents,
    )


def make_available(*people: Person, at=None) -> None:
    for person in people:
        agent_set_state(person=person, state=AgentState.AVAILABLE, at=at)


def signature(path_or_url: str, params: dict, *, token: str | None = None) -> str:
    url = path_or_url if path_or_url.startswith("http") else settings.PUBLIC_BASE_URL + path_or_url
    return RequestValidator(token or settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)


def post_signed(client, path: str, params: dict, *, url: str | None = None, **extra):
    return client.post(
        path, params, HTTP_X_TWILIO_SIGNATURE=signature(url or path, params), **extra
    )


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker consuming the configured broker (Redis in CI) in this process."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from callcenter.celery import app

    def close_connections(**kwargs):
        connections.close_all()  # the worker thread's own connections, so teardown can drop the DB

    task_postrun.connect(close_connections, weak=False)
    app.control.purge()
    with start_worker(
        app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
    ) as worker:
        yield worker
    task_postrun.disconnect(close_connections)


class ClientTransport:
    """The simulator's webhooks go to Django's test client instead of over HTTP."""

    def __init__(self, client):
        self.client = client
        self.responses = []

    def post(self, url, data, signature):
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature)
        self.responses.append((parts.path, response.status_code, response.content.decode()))
        return response.status_code, response.content.decode()


@pytest.fixture(autouse=True)
def _fresh_number_cache_and_route_marker():
    """Each test starts without another test's dialled-number → queue copies or route marker."""
    from telephony.selectors import number_cache_clear

    number_cache_clear()
    _route_request_forget()
    yield
    _route_request_forget()


def _route_request_forget() -> None:
    """A routing run another test requested (and no worker took) must not hold back this
    test's route requests (telephony.tasks coalesces them)."""
    from django.core.cache import caches

    from telephony.tasks import ROUTE_REQUESTED

    try:
        caches["acd"].delete(ROUTE_REQUESTED)
    except Exception:  # noqa: S110 - a test that stopped its Redis: nothing to forget
        pass
