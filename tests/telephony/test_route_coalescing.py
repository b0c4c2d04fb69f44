"""Route requests are coalesced: one routing run per burst, never a request lost."""

from __future__ import annotations

import time

import pytest
from kombu.exceptions import OperationalError

from telephony import tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.acd_route_task, "delay", lambda *a, **k: sent.append(a))
    return sent


def test_a_burst_of_route_requests_sends_one_routing_run(org, published):
    for _ in range(5):
        tasks.acd_route_soon(queue_id=org.q_general.pk)
    tasks.acd_route_soon()
    assert len(published) == 1


def test_a_run_that_starts_clears_the_request_so_the_next_one_is_sent(org, published):
    tasks.acd_route_soon()
    tasks.acd_route_task()  # the worker runs it: first thing, it clears the marker
    tasks.acd_route_soon()
    assert len(published) == 2


def test_a_request_the_broker_refused_does_not_hold_back_the_next(org, monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OperationalError("broker down")

    monkeypatch.setattr(tasks.acd_route_task, "delay", refuse)
    tasks.acd_route_soon()
    tasks.acd_route_soon()
    assert len(attempts) == 2


def test_the_marker_expires_if_its_run_is_lost(org, published, monkeypatch):
    monkeypatch.setattr(tasks, "ROUTE_REQUEST_TTL", 1)
    tasks.acd_route_soon()
    time.sleep(1.1)
    tasks.acd_route_soon()
    assert len(published) == 2
