"""Merging keeps history: a duplicate ticket's notes, calls and events survive on the
target; a duplicate customer's tickets, calls, notes and numbers move over."""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from tests.factories import CallFactory, TicketFactory
from tickets.models import Customer, CustomerNote, TicketEvent, TicketNote
from tickets.selectors import customer_for_phone
from tickets.services.merges import customer_merge, ticket_merge
from tickets.services.tickets import ticket_note_add


def test_ticket_merge_moves_notes_and_calls_and_keeps_both_histories(
    org, django_capture_on_commit_callbacks
):
    target = TicketFactory(team=org.team_a, subject="요금 문의")
    source = TicketFactory(team=org.team_a, customer=target.customer, subject="요금 문의 (중복)")
    ticket_note_add(actor=org.agent1, ticket=source, body="첫 통화 메모")
    call = CallFactory(agent=org.agent1, customer=target.customer, ticket=source)
    source_events = TicketEvent.objects.filter(ticket=source).count()

    with django_capture_on_commit_callbacks(execute=True):  # the calls follow after commit
        ticket_merge(actor=org.agent1, source_id=source.pk, target_id=target.pk)

    source.refresh_from_db()
    assert source.status == "merged" and source.merged_into == target
    assert TicketNote.objects.get().ticket == target
    call.refresh_from_db()
    assert call.ticket == target
    # The duplicate's own trail stays on it, with the merge added; the target says where from.
    assert TicketEvent.objects.filter(ticket=source).count() > source_events
    assert TicketEvent.objects.filter(ticket=source, kind="merged_into").exists()
    assert TicketEvent.objects.get(ticket=target, kind="merged_from").old_value == source.number
    with pytest.raises(ValidationError):
        ticket_note_add(actor=org.agent1, ticket=source, body="x")


def test_tickets_of_different_customers_are_not_merged(org):
    a = TicketFactory(team=org.team_a, customer__phone="+821011110000")
    b = TicketFactory(team=org.team_a, customer__phone="+821022220000")
    with pytest.raises(ValidationError):
        ticket_merge(actor=org.agent1, source_id=a.pk, target_id=b.pk)


def test_customer_merge_moves_everything_and_the_duplicates_number_still_pops(
    org, django_capture_on_commit_callbacks
):
    target = TicketFactory(team=org.team_a, customer__phone="+821012340000").customer
    dup_ticket = TicketFactory(team=org.team_a, customer__phone="+821099990000")
    dup = dup_ticket.customer
    call = CallFactory(agent=org.agent1, customer=dup)
    CustomerNote.objects.create(
        customer=dup, author=org.agent1, body="메모", created_at=call.enqueued_at
    )

    with django_capture_on_commit_callbacks(execute=True):  # the calls follow after commit
        customer_merge(actor=org.agent1, source_id=dup.pk, target_id=target.pk)

    dup.refresh_from_db()
    dup_ticket.refresh_from_db()
    call.refresh_from_db()
    assert dup.merged_into == target
    assert dup_ticket.customer == target and call.customer == target
    assert target.notes.filter(body="메모").exists()
    assert target.notes.filter(is_system=True).exists()
    assert customer_for_phone("+821099990000") == target
    assert TicketEvent.objects.filter(ticket=dup_ticket, kind="customer_merged").exists()
    # The emptied duplicate has no work left an agent could see it through.
    with pytest.raises(Http404):
        customer_merge(actor=org.agent1, source_id=dup.pk, target_id=target.pk)


def test_customer_merge_through_the_page(client, org):
    target = TicketFactory(team=org.team_a, customer__phone="+821012340000").customer
    dup = TicketFactory(team=org.team_a, customer__phone="+821099990000").customer
    client.force_login(org.agent1)
    response = client.post(f"/tickets/customers/{dup.pk}/merge/", {"target": target.number})
    assert response.status_code == 302
    assert Customer.objects.get(pk=dup.pk).merged_into_id == target.pk
    page = client.get(f"/tickets/customers/{target.pk}/").content.decode()
    assert dup.number in page  # the system note says what was merged


def test_a_lost_merge_reaction_is_caught_up_by_the_sweep(org):
    """The merge's reactions never ran (a worker gone after the commit): the periodic sweep
    moves the calls, texts and voicemails still on the duplicates."""
    from telephony.models import SmsMessage
    from telephony.services.customers import merges_follow_sweep

    target = TicketFactory(team=org.team_a, customer__phone="+821012340000")
    dup_ticket = TicketFactory(team=org.team_a, customer__phone="+821099990000")
    dup = dup_ticket.customer
    call = CallFactory(agent=org.agent1, customer=dup, ticket=dup_ticket)
    sms = SmsMessage.objects.create(
        sid="SM" + "0" * 32,
        customer=dup,
        from_number=dup.phone,
        to_number="+8215880000",
        body="네",
        at=timezone.now(),
    )
    customer_merge(actor=org.agent1, source_id=dup.pk, target_id=target.customer_id)
    ticket_merge(actor=org.agent1, source_id=dup_ticket.pk, target_id=target.pk)
    call.refresh_from_db()
    assert call.customer_id == dup.pk  # no reaction ran (no on-commit callbacks here)

    assert merges_follow_sweep() == 3
    call.refresh_from_db()
    sms.refresh_from_db()
    assert (call.customer_id, call.ticket_id, sms.customer_id) == (
        target.customer_id,
        target.pk,
        target.customer_id,
    )
    assert merges_follow_sweep() == 0
