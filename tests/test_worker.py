"""A real Celery worker (in this process, on the configured broker: Redis in CI) routes a
call that arrived through the signed webhook."""

import time

import pytest
from django.conf import settings

from agents.models import AgentState, AgentStatus
from telephony.models import Offer
from tests.conftest import GENERAL_NUMBER, make_available, post_signed

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(predicate, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _incoming(client, sid):
    return post_signed(
        client,
        "/telephony/voice/incoming/",
        {"CallSid": sid, "From": "+821012345678", "To": GENERAL_NUMBER, "CallStatus": "ringing"},
    )


def test_the_worker_offers_an_incoming_call_to_an_available_agent(client, org, celery_worker):
    make_available(org.agent1)
    assert _incoming(client, "CA" + "c3" * 16).status_code == 200
    assert wait_for(lambda: Offer.objects.filter(agent=org.agent1).exists())
    assert AgentStatus.objects.get(person=org.agent1).state == AgentState.RESERVED


@pytest.mark.redis
def test_the_broker_is_redis_when_redis_url_is_set(client, org, celery_worker):
    from callcenter.celery import app

    assert app.conf.broker_url.startswith("redis://") and settings.REDIS_URL
    make_available(org.agent2)
    _incoming(client, "CA" + "d4" * 16)
    assert wait_for(lambda: Offer.objects.filter(agent=org.agent2).exists())
