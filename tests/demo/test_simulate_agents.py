"""Simulated colleagues (make run's demo floor) work a call through the real services."""

from __future__ import annotations

import random

import pytest
from django.core.management import CommandError, call_command

from agents.models import AgentState, AgentStatus, QueueMembership
from callcenter.dispatch import suppress_dispatch
from demo.management.commands.simulate_agents import Colleague, Command, colleagues_in
from telephony.models import Call, CallPhase
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from tests.conftest import GENERAL_NUMBER
from tests.factories import PersonFactory, QueueMembershipFactory

pytestmark = pytest.mark.django_db


def test_a_colleague_answers_talks_hangs_up_and_wraps_up(org):
    person = PersonFactory(username="colleague1", team=org.team_a)
    QueueMembershipFactory(person=person, queue=org.q_general)
    command = Command()
    command.rng = random.Random(1)
    command.opts = {"answer": (0, 0), "talk": (0, 0), "wrapup": (0, 0)}
    mate = Colleague(person)

    def state():
        return AgentStatus.objects.get(person=person).state

    with suppress_dispatch():
        command._step(mate)
        assert state() == AgentState.AVAILABLE
        call = call_receive(
            sid="CA" + "5" * 32, from_number="+821012340000", to_number=GENERAL_NUMBER
        )
        acd_route(queue_id=org.q_general.pk)
        assert state() == AgentState.RESERVED
        for expected in (AgentState.ON_CALL, AgentState.WRAP_UP, AgentState.AVAILABLE):
            command._step(mate)
            assert state() == expected
    call = Call.objects.get(pk=call.pk)
    assert call.phase == CallPhase.COMPLETED and call.agent == person
    assert call.ticket_id is not None  # the wrap-up note landed on a ticket


def test_people_a_newcomer_logs_in_as_are_never_played(org):
    person = PersonFactory(username="colleague1", team=org.team_a)
    QueueMembershipFactory(person=person, queue=org.q_general)
    for name in ("agent1", "agent2"):  # they take 일반's calls too
        QueueMembership.objects.get_or_create(
            person=getattr(org, name), queue=org.q_general, defaults={"proficiency": 5}
        )
    played = {p.username for p in colleagues_in([org.general], 5)}
    assert "colleague1" in played
    assert not played & {"agent1", "agent2"}
    call_command("simulate_agents", department=["일반"], count=5, minutes=0.001)
    assert AgentStatus.objects.get(person=person).state == AgentState.OFFLINE  # logged off


def test_an_unknown_department_is_a_clear_error(org):
    with pytest.raises(CommandError, match="no department named 없음"):
        call_command("simulate_agents", department=["없음"])


def test_with_nobody_to_play_it_stays_up_until_stopped(org, monkeypatch):
    """`make run` runs it under supervisord, which starts a process that ends again and
    gives up after a few quick exits: SIM_COLLEAGUES=0 must idle, not end."""
    command = Command()
    naps = []

    def nap(seconds):
        naps.append(seconds)
        if len(naps) == 3:
            command._stop()  # SIGTERM from the process manager

    monkeypatch.setattr("demo.management.commands.simulate_agents.time.sleep", nap)
    call_command(command, count=0)
    assert len(naps) == 3  # it waited until stopped
    naps.clear()
    call_command(Command(), count=0, minutes=1)  # with a time limit: nothing to wait for
    assert naps == []


@pytest.mark.parametrize("error", ["broker", "redis"])
def test_a_colleague_keeps_working_when_redis_or_the_broker_is_down(org, monkeypatch, error):
    """During a Redis outage a step's after-commit publish fails (the simulated hang-up's
    message to the caller, a route request): the colleagues used to die of it."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    from demo.management.commands import simulate_agents

    person = PersonFactory(username="colleague1", team=org.team_a)
    QueueMembershipFactory(person=person, queue=org.q_general)
    real = simulate_agents.agent_set_state
    failures = []

    def set_state_then_fail(**kwargs):
        real(**kwargs)  # committed, then the publish after the commit fails
        if len(failures) < 2:
            failures.append(kwargs["state"])
            raise (OperationalError if error == "broker" else RedisConnectionError)("down")

    monkeypatch.setattr(simulate_agents, "agent_set_state", set_state_then_fail)
    command = Command()
    naps = []

    def nap(seconds):
        naps.append(seconds)
        if len(naps) == 3:
            command._stop()

    monkeypatch.setattr("demo.management.commands.simulate_agents.time.sleep", nap)
    call_command(command, department=["일반"], count=1)
    assert len(naps) == 3  # it kept stepping until stopped
    assert failures == [AgentState.AVAILABLE, AgentState.OFFLINE]  # and still logged off
    assert AgentStatus.objects.get(person=person).state == AgentState.OFFLINE
