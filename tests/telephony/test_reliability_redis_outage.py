"""Redis going away: every incoming-call webhook still answers within 2 s with valid TwiML
and stores the call (Twilio gives up at 15 s), the worker stays up, and when Redis comes
back the calls taken meanwhile are routed and the live tallies count them.

A private redis-server (never the shared one) with the app's own Redis settings (the cache
backend and its OPTIONS, the broker's transport options and publish retry policy): the
short timeouts are what is tested. It is killed (connections
refused) and later restarted empty, as after a crash without persistence.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import kombu.pools
import pytest
from django.conf import settings
from django.test import override_settings

from callcenter import redis_health
from callcenter.redis_health import redis_down
from kpi.tallies import TallyScope, tallies_snapshot
from telephony.models import Call, CallPhase, Offer
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available, post_signed
from tests.telephony.reliability_support import (
    PrivateRedis,
    WorkerProcess,
    needs_redis_server,
    send_task,
    wait_for,
)

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

INCOMING = "/telephony/voice/incoming/"
ANSWER_WITHIN_SECONDS = 2.0
PAUSE_SECONDS = 8.0


@contextlib.contextmanager
def app_on_redis(url: str) -> Iterator[None]:
    """This process publishes and caches (its tallies too) in `url`, with the settings the
    app ships (only the address changes)."""
    from callcenter.celery import app

    def reset() -> None:
        app._pool = None
        app.amqp._producer_pool = None
        kombu.pools.reset()
        # Nothing of this test's outage outlives it.
        redis_health._down_until = 0.0

    caches = {name: {**conf, "LOCATION": url} for name, conf in settings.CACHES.items()}
    old = app.conf.broker_url
    reset()
    app.conf.broker_url = url
    try:
        with override_settings(REDIS_URL=url, CELERY_BROKER_URL=url, CACHES=caches):
            yield
    finally:
        reset()
        app.conf.broker_url = old


@pytest.fixture
def private_redis():
    needs_redis_server()
    server = PrivateRedis()
    server.start()
    try:
        with app_on_redis(server.url):
            yield server
    finally:
        server.kill()


def paused(server: PrivateRedis, seconds: float):
    """SIGSTOP the server now, SIGCONT it when the returned function is called or after
    `seconds` at the latest (so a webhook stuck on it cannot hang the test)."""
    server.proc.send_signal(signal.SIGSTOP)
    timer = threading.Timer(seconds, server.proc.send_signal, (signal.SIGCONT,))
    timer.start()

    def resume() -> None:
        timer.cancel()
        server.proc.send_signal(signal.SIGCONT)

    return resume


def incoming(client, i: int) -> tuple[str, float, object]:
    sid = new_call_sid()
    params = {"CallSid": sid, "From": f"+8210666{i:05d}", "To": GENERAL_NUMBER}
    params["CallStatus"] = "ringing"
    t0 = time.perf_counter()
    response = post_signed(client, INCOMING, params)
    return sid, time.perf_counter() - t0, response


def assert_twiml(response) -> None:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own response
    assert root.tag == "Response" and len(root), response.content


def offered_in_redis(org) -> int:
    """Today's offered calls as the live tallies say, once this process asks Redis again
    (their short-lived count is kept there)."""
    assert wait_for(lambda: not redis_down(), timeout=settings.REDIS_DOWN_SECONDS + 1)
    offered = tallies_snapshot(TallyScope("queue", org.q_general.pk)).offered
    assert not redis_down()
    return offered


def test_webhooks_answer_fast_while_redis_is_down_and_work_resumes_after(
    client, org, private_redis, tmp_path
):
    org.q_general.reservation_timeout_seconds = 600  # no re-offer while the test runs
    org.q_general.save()
    worker = WorkerProcess(broker_url=private_redis.url, log_dir=tmp_path).launch()
    try:
        worker.wait_ready()
        calls = [incoming(client, i) for i in range(3)]
        assert offered_in_redis(org) == 3

        # Hung: the server takes no more requests but closes nothing (a paused VM, a
        # network partition); whatever waits on it without a timeout waits until it is
        # back, here after PAUSE_SECONDS at the latest.
        resume = paused(private_redis, PAUSE_SECONDS)
        try:
            hung = [incoming(client, 10 + i) for i in range(4)]
        finally:
            resume()
        calls += hung
        # Back with what it held before: the calls it missed are counted again.
        assert offered_in_redis(org) == len(calls)

        # Gone: connections refused.
        private_redis.kill()
        gone = [incoming(client, 20 + i) for i in range(4)]
        calls += gone
        latencies = [seconds for _sid, seconds, _response in hung + gone]
        print("webhook seconds while Redis was down:", [round(t, 3) for t in latencies])
        for _sid, _seconds, response in hung + gone:
            assert_twiml(response)
        assert max(latencies) < ANSWER_WITHIN_SECONDS, f"a webhook took {max(latencies):.2f} s"
        # Every call stored.
        assert set(Call.objects.values_list("sid", flat=True)) == {sid for sid, _t, _r in calls}
        assert worker.alive(), worker.log()

        private_redis.start()  # back, empty: every message and tally is gone
        after = [incoming(client, 30 + i) for i in range(2)]
        for _sid, _seconds, response in after:
            assert_twiml(response)
        calls += after
        assert offered_in_redis(org) == len(calls)  # rebuilt from the rows

        # Work resumes: agents who become ready get the waiting calls, from the route
        # requests sent now or, for what was lost with Redis, from the periodic sweep.
        make_available(org.agent1, org.agent2, org.agent3)
        send_task("telephony.tasks.acd_sweep")
        assert wait_for(lambda: Offer.objects.count() == 3, timeout=20), worker.log()
        assert Call.objects.filter(phase=CallPhase.OFFERED).count() == 3
        assert worker.alive(), worker.log()
    finally:
        worker.kill9()
