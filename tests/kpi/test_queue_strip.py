"""The desktop's queue strip: for each queue the agent is a member of, callers waiting, the
longest current wait (its start, ticked in the browser) and today's service level by the
center's variant; a 204 while nothing shown changed; queries that do not grow with queues."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.models import Department
from callcenter.clock import day_bounds
from telephony.models import Queue
from telephony.services.receiving import call_receive
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER
from tests.factories import CallFactory, QueueMembershipFactory

STRIP = "/kpi/queues/mine/"


@pytest.fixture(autouse=True)
def in_process_tallies(settings):
    settings.REDIS_URL = ""
    cache.clear()  # a count kept by an earlier test


def base_time():
    start, _ = day_bounds()
    return max(timezone.now() - timedelta(minutes=10), start + timedelta(seconds=1))


@pytest.fixture
def two_queues(org):
    """agent1 in 일반 and 가입. 일반 today: one answered in 12 s (within T = 20 s), one
    answered in 45 s, one abandoned after 40 s, two callers waiting; 가입: one waiting,
    nothing answered yet."""
    QueueMembershipFactory(person=org.agent1, queue=org.q_signup)
    t0 = base_time()
    CallFactory(enqueued_at=t0, wait=12, agent=org.agent2, talk=60, acw=10)
    CallFactory(enqueued_at=t0 + timedelta(seconds=5), wait=45, agent=org.agent2, talk=60, acw=10)
    CallFactory(
        abandoned=True, enqueued_at=t0 + timedelta(seconds=10), wait=40, department=org.general
    )
    oldest = CallFactory(
        queued=True, enqueued_at=t0 + timedelta(seconds=60), department=org.general
    )
    CallFactory(queued=True, enqueued_at=t0 + timedelta(seconds=90), department=org.general)
    signup = CallFactory(queued=True, enqueued_at=t0 + timedelta(seconds=30), department=org.signup)
    return {"general": oldest, "signup": signup}


def queue_block(body: str, queue: Queue) -> str:
    start = body.index(f'data-queue="{queue.pk}"')
    end = body.find("data-queue=", start + 1)
    return body[start : end if end > 0 else len(body)]


def figure(block: str, key: str) -> str:
    return re.search(rf'data-k="{key}"[^>]*>([^<]*)<', block).group(1)


def strip(client, person, query=""):
    client.force_login(person)
    return client.get(STRIP + query, HTTP_HX_REQUEST="true")


def test_the_strip_shows_waiting_longest_wait_and_service_level_per_queue(client, org, two_queues):
    response = strip(client, org.agent1)
    assert response.status_code == 200
    body = response.content.decode()
    general, signup = queue_block(body, org.q_general), queue_block(body, org.q_signup)
    assert org.q_general.name in general and org.q_signup.name in signup
    assert figure(general, "waiting") == "2" and figure(signup, "waiting") == "1"
    # The longest wait ticks in the browser from the oldest caller's start.
    for block, call in ((general, two_queues["general"]), (signup, two_queues["signup"])):
        since = re.search(r'data-waiting-since="([^"]+)"', block).group(1)
        assert abs((datetime.fromisoformat(since) - call.enqueued_at).total_seconds()) < 0.01
    # Default variant: within T / (answered + abandoned − short) = 1 / 3; 가입: nothing yet.
    assert figure(general, "sl") == "33%"
    assert figure(signup, "sl") == "–"
    # Another agent's queues are not on agent1's strip, nor theirs on agent4's.
    assert f'data-queue="{org.q_general.pk}"' not in strip(client, org.agent4).content.decode()


def test_the_strip_follows_the_centers_service_level_variant(client, org, two_queues, settings):
    settings.KPI_SERVICE_LEVEL_VARIANT = "answered"
    body = strip(client, org.agent1).content.decode()
    assert figure(queue_block(body, org.q_general), "sl") == "50%"  # 1 of 2 answered in time


def test_an_unchanged_strip_answers_204_and_a_new_caller_changes_it(client, org, two_queues):
    body = strip(client, org.agent1).content.decode()
    version = re.search(r'hx-get="/kpi/queues/mine/\?v=([0-9a-f]+)"', body).group(1)
    assert 'hx-trigger="every 5s"' in body
    assert strip(client, org.agent1, f"?v={version}").status_code == 204
    call_receive(sid=new_call_sid(), from_number="+821099998888", to_number=GENERAL_NUMBER)
    response = strip(client, org.agent1, f"?v={version}")
    assert response.status_code == 200
    assert figure(queue_block(response.content.decode(), org.q_general), "waiting") == "3"


def test_someone_in_no_queue_gets_a_hidden_strip_that_does_not_poll(client, org):
    body = strip(client, org.lead1).content.decode()
    assert "hidden" in body and "hx-trigger" not in body


def test_the_strip_needs_a_sign_in(client, org):
    assert client.get(STRIP).status_code == 302


def test_the_strips_queries_do_not_grow_with_queues(client, org, two_queues):
    def queries() -> int:
        client.force_login(org.agent1)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(STRIP).status_code == 200
        return len(ctx.captured_queries)

    queries()  # the in-process store's first build
    before = queries()
    for i in range(4):  # a queue per department
        department = Department.objects.create(
            center=org.center, name=f"추가 {i}", phone_number=f"+82255502{i:02d}"
        )
        queue = Queue.objects.create(department=department, name=f"추가 대기열 {i}")
        QueueMembershipFactory(person=org.agent1, queue=queue)
    cache.clear()  # the new memberships count at once, not after the cache's seconds
    queries()
    assert queries() == before
    assert before <= 6


def test_the_desktop_loads_the_strip_outside_the_desk_panel(client, org):
    client.force_login(org.agent1)
    body = client.get("/agents/desktop/").content.decode()
    loader = body.index(f'hx-get="{STRIP}"')
    assert loader < body.index('id="desk-panel"')
