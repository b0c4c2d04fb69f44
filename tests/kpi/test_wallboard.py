"""The wallboard: who sees which queue, 204 while nothing changed, a bounded partial."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from callcenter.dispatch import suppress_dispatch
from kpi import tallies
from telephony.services.receiving import call_receive
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER

PAGE = reverse("kpi:wallboard")
TILES = reverse("kpi:wallboard-tiles")


@pytest.fixture(autouse=True)
def in_process(settings):
    settings.REDIS_URL = ""
    cache.clear()  # a count kept by an earlier test


def version_of(response) -> str:
    return re.search(r'data-version="([^"]+)"', response.content.decode()).group(1)


def test_an_agent_sees_their_own_department_only(client, org):
    client.force_login(org.agent4)  # 가입
    page = client.get(PAGE)
    assert page.status_code == 200
    assert f'data-scope="queue-{org.q_signup.pk}"' in page.content.decode()
    assert f'data-scope="queue-{org.q_general.pk}"' not in page.content.decode()
    assert 'data-scope="center-' not in page.content.decode()


def test_an_agent_of_another_department_cannot_see_a_queue(client, org):
    client.force_login(org.agent4)
    assert client.get(PAGE, {"queue": org.q_general.pk}).status_code == 404
    assert client.get(TILES, {"queue": org.q_general.pk}).status_code == 404


def test_a_manager_sees_their_departments_and_the_director_the_center(client, org):
    client.force_login(org.manager)
    body = client.get(PAGE).content.decode()
    assert f'data-scope="queue-{org.q_general.pk}"' in body
    assert f'data-scope="queue-{org.q_signup.pk}"' not in body
    client.force_login(org.director)
    body = client.get(PAGE).content.decode()
    assert f'data-scope="center-{org.center.pk}"' in body
    assert f'data-scope="queue-{org.q_signup.pk}"' in body


def test_a_bad_queue_parameter_is_a_400(client, org):
    client.force_login(org.director)
    assert client.get(PAGE, {"queue": "abc"}).status_code == 400
    assert client.get(TILES, {"queue": "1;DROP"}).status_code == 400


def test_it_answers_204_while_nothing_changed_and_the_new_tiles_after_an_event(client, org):
    client.force_login(org.lead1)
    version = version_of(client.get(PAGE))
    assert client.get(TILES, {"v": version}).status_code == 204
    with suppress_dispatch():
        call_receive(sid=new_call_sid(), from_number="+821012345678", to_number=GENERAL_NUMBER)
    changed = client.get(TILES, {"v": version})
    assert changed.status_code == 200
    assert version_of(changed) != version
    assert '<div class="value" data-k="waiting">1</div>' in changed.content.decode()
    assert client.get(TILES, {"v": version_of(changed)}).status_code == 204


def test_the_partial_runs_a_bounded_number_of_queries(client, org, django_assert_max_num_queries):
    client.force_login(org.director)
    version = version_of(client.get(PAGE))
    with suppress_dispatch():
        for i in range(5):
            call_receive(
                sid=new_call_sid(), from_number=f"+82101234000{i}", to_number=GENERAL_NUMBER
            )
    tallies.tallies_version()
    # session, user, visible queues, change mark, queues with their centers, calls, agents
    with django_assert_max_num_queries(7):
        assert client.get(TILES, {"v": version}).status_code == 200
    current = version_of(client.get(TILES, {"v": version}))
    # session, user, visible queues, change mark (the figures are kept under it)
    with django_assert_max_num_queries(5):
        assert client.get(TILES, {"v": current}).status_code == 204


def test_the_page_is_korean_by_default(client, org):
    client.force_login(org.director)
    body = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert 'lang="ko"' in body
    assert timezone.localdate().isoformat() in body
