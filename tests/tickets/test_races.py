"""Escalating and merging at the same moment: one wins, the others get a clear refusal,
and the rows never end up half-done (both tickets merged into each other, two pending
escalations). The concurrent runs need PostgreSQL (SQLite runs one writer at a time)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404

from agents.models import ApprovalRequest
from tests.factories import TicketFactory
from tickets.approvals import approval_request_decide
from tickets.models import Customer, Ticket, TicketStatus
from tickets.services.merges import customer_merge, ticket_merge
from tickets.services.tickets import ticket_escalate


def run_concurrently(jobs: list[Callable[[], object]]) -> tuple[int, list[BaseException]]:
    """Every job in its own thread and connection, released together: how many finished,
    and what they raised."""
    barrier = threading.Barrier(len(jobs))
    done: list[object] = []
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait()
            done.append(job())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return len(done), errors


def _merge(service, org, source, target):
    return lambda: service(actor=org.agent1, source_id=source.pk, target_id=target.pk)


def test_a_second_pending_escalation_of_a_ticket_is_refused_by_the_database(org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    ticket_escalate(actor=org.agent1, ticket_id=ticket.pk, reason="권한 밖")
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.create(
            kind="escalation",
            requester=org.agent2,
            team=org.team_a,
            ticket=ticket,
            reason="또",
            created_at=ticket.created_at,
        )
    # Other kinds, and escalations already decided, are not limited.
    ApprovalRequest.objects.create(
        kind="refund",
        requester=org.agent2,
        team=org.team_a,
        ticket=ticket,
        reason="환불",
        amount=1000,
        created_at=ticket.created_at,
    )


def test_approving_an_escalation_of_a_ticket_merged_since_is_refused(org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    other = TicketFactory(team=org.team_a, customer=ticket.customer, assignee=org.agent1)
    request = ticket_escalate(actor=org.agent1, ticket_id=ticket.pk, reason="권한 밖")
    ticket_merge(actor=org.agent1, source_id=ticket.pk, target_id=other.pk)
    with pytest.raises(ValidationError, match=other.number):
        approval_request_decide(decider=org.lead1, request_id=request.pk, approve=True)
    request.refresh_from_db()
    assert request.status == "pending"  # nothing half-done
    approval_request_decide(decider=org.lead1, request_id=request.pk, approve=False)


def test_approving_an_escalation_of_a_ticket_closed_since_is_refused(org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    request = ticket_escalate(actor=org.agent1, ticket_id=ticket.pk, reason="권한 밖")
    Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.CLOSED)
    with pytest.raises(ValidationError):
        approval_request_decide(decider=org.lead1, request_id=request.pk, approve=True)
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == org.agent1.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_escalating_one_ticket_from_many_places_at_once_makes_one_request(org):
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1)
    agents = [org.agent1, org.agent2] * 4
    jobs = [
        lambda a=a: ticket_escalate(actor=a, ticket_id=ticket.pk, reason="권한 밖") for a in agents
    ]
    done, errors = run_concurrently(jobs)
    assert done == 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    assert ApprovalRequest.objects.filter(ticket=ticket, status="pending").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_merging_two_tickets_into_each_other_at_once_merges_one_way(org):
    for _ in range(5):
        a = TicketFactory(team=org.team_a, assignee=org.agent1)
        b = TicketFactory(team=org.team_a, customer=a.customer, assignee=org.agent1)
        done, errors = run_concurrently(
            [_merge(ticket_merge, org, a, b), _merge(ticket_merge, org, b, a)]
        )
        assert done == 1 and all(isinstance(e, ValidationError) for e in errors), errors
        statuses = sorted(
            Ticket.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)
        )
        assert statuses.count(TicketStatus.MERGED) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_merging_two_customers_into_each_other_at_once_merges_one_way(org):
    for i in range(5):
        a = TicketFactory(team=org.team_a, customer__phone=f"+8210111100{i:02d}").customer
        b = TicketFactory(team=org.team_a, customer__phone=f"+8210222200{i:02d}").customer
        merge = customer_merge
        done, errors = run_concurrently([_merge(merge, org, a, b), _merge(merge, org, b, a)])
        # The loser is refused: "already merged", or not found if it looked after the merge
        # (a merged customer is no longer listed), as when merging one after the other.
        refusals = (ValidationError, Http404)
        assert done == 1 and all(isinstance(e, refusals) for e in errors), errors
        merged = Customer.objects.filter(pk__in=[a.pk, b.pk], merged_into__isnull=False)
        assert merged.count() == 1
