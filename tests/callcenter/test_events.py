"""Cross-app events: the reactions run after commit only, one failing reaction neither stops
the others nor reaches the caller, and every path in the wiring table imports."""

import logging
from dataclasses import FrozenInstanceError

import pytest
from django.db import transaction

from callcenter import events
from callcenter.events import REACTIONS, AgentBecameAvailable, Event, emit

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen(monkeypatch):
    """Wire AgentBecameAvailable to two recording reactions (this module's functions)."""
    log: list[tuple[str, Event]] = []
    monkeypatch.setitem(
        REACTIONS, AgentBecameAvailable, [f"{__name__}.record_first", f"{__name__}.record_second"]
    )
    monkeypatch.setattr(f"{__name__}.LOG", log)
    return log


LOG: list = []


def record_first(event):
    LOG.append(("first", event))


def record_second(event):
    LOG.append(("second", event))


def explode(event):
    raise RuntimeError("reaction broke")


def test_reactions_run_after_commit_not_before(seen, django_capture_on_commit_callbacks):
    event = AgentBecameAvailable(agent_id=7)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            emit(event)
            assert seen == []  # nothing while the transaction is open
    assert seen == [("first", event), ("second", event)]


def test_a_rolled_back_transaction_emits_nothing(seen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ValueError), transaction.atomic():
            emit(AgentBecameAvailable(agent_id=7))
            raise ValueError
    assert callbacks == [] and seen == []


def test_a_failing_reaction_is_logged_and_the_others_still_run(
    seen, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(
        REACTIONS,
        AgentBecameAvailable,
        [f"{__name__}.explode", f"{__name__}.record_second", "no.such.module.reaction"],
    )
    with caplog.at_level(logging.ERROR, logger="callcenter.events"):
        with django_capture_on_commit_callbacks(execute=True):
            emit(AgentBecameAvailable(agent_id=7))  # the caller sees no error
    assert seen == [("second", AgentBecameAvailable(agent_id=7))]
    assert f"{__name__}.explode" in caplog.text and "reaction broke" in caplog.text
    assert "no.such.module.reaction" in caplog.text


def test_events_are_frozen_and_carry_ids():
    event = AgentBecameAvailable(agent_id=3)
    with pytest.raises(FrozenInstanceError):
        event.agent_id = 4


@pytest.mark.parametrize("path", sorted({path for paths in REACTIONS.values() for path in paths}))
def test_every_reaction_in_the_wiring_table_imports_and_is_callable(path):
    from django.utils.module_loading import import_string

    assert callable(import_string(path))


def test_every_wired_type_is_an_event():
    assert REACTIONS and all(issubclass(kind, Event) for kind in REACTIONS)
    assert events.reactions_to(AgentBecameAvailable)


def test_an_agent_choosing_available_asks_for_a_routing_run_after_commit(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    from agents.models import AgentState
    from agents.services.states import agent_set_state

    asked = []
    monkeypatch.setattr("telephony.reactions.acd_route_soon", lambda: asked.append(1))
    with django_capture_on_commit_callbacks(execute=True):
        agent_set_state(person=org.agent1, state=AgentState.AVAILABLE)
        assert asked == []
    assert asked == [1]


def test_a_handled_call_asks_for_a_kpi_refill_after_commit(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    from telephony.services.wrapup import wrapup_submit
    from tests.tickets.test_pii_wrapup import call_in_wrapup

    call = call_in_wrapup(org)
    asked = []
    monkeypatch.setattr("kpi.reactions.kpi_fill_soon", lambda: asked.append(1))
    disposition = org.general.dispositions.get(code="resolved")
    with django_capture_on_commit_callbacks(execute=True):
        wrapup_submit(
            agent=org.agent1,
            call_id=call.pk,
            disposition_id=disposition.pk,
            note="메모",
            subject="문의",
        )
        assert asked == []
    assert asked == [1]


def test_a_merged_customers_calls_follow_after_commit(org, django_capture_on_commit_callbacks):
    from tests.factories import CallFactory, TicketFactory
    from tickets.services.merges import customer_merge

    target = TicketFactory(team=org.team_a, customer__phone="+821012340000").customer
    dup = TicketFactory(team=org.team_a, customer__phone="+821099990000").customer
    call = CallFactory(customer=dup, agent=org.agent1, queue=org.q_general)
    with django_capture_on_commit_callbacks() as callbacks:
        customer_merge(actor=org.agent1, source_id=dup.pk, target_id=target.pk)
    call.refresh_from_db()
    assert call.customer == dup  # not yet: the merge has not committed
    for callback in callbacks:
        callback()
    call.refresh_from_db()
    assert call.customer == target
