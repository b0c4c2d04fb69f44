"""Wrap-up schedules a follow-up call with category and priority; the reminder sweep marks
it due and the desktop shows it; today's figures follow the DOMAIN.md formulas."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from desk.selectors import today_figures_for
from tests.conftest import GENERAL_NUMBER
from tests.factories import TicketFactory
from tests.tickets.test_pii_wrapup import call_in_wrapup, post_wrapup
from tickets.models import FollowUpTask, Ticket, TicketCategory
from tickets.services.followups import followup_create, followups_remind


def test_wrapup_sets_category_priority_and_a_follow_up(client, org):
    category = TicketCategory.objects.create(department=org.general, name="환불 요청")
    call = call_in_wrapup(org)
    client.force_login(org.agent1)
    due = timezone.localtime() + timedelta(hours=2)
    response = post_wrapup(
        client,
        org,
        call,
        "환불 접수",
        category=category.pk,
        priority="high",
        followup_at=due.strftime("%Y-%m-%dT%H:%M"),
        followup_note="환불 완료 안내",
    )
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert (ticket.category, ticket.priority) == (category, "high")
    task = FollowUpTask.objects.get()
    assert (task.assignee, task.ticket, task.note) == (org.agent1, ticket, "환불 완료 안내")


def test_a_follow_up_in_the_past_is_refused_and_nothing_is_saved(client, org):
    call = call_in_wrapup(org)
    client.force_login(org.agent1)
    past = timezone.localtime() - timedelta(hours=2)
    response = post_wrapup(client, org, call, "메모", followup_at=past.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 422
    assert not Ticket.objects.exists() and not FollowUpTask.objects.exists()


def test_the_reminder_shows_on_the_desktop(client, org):
    ticket = TicketFactory(team=org.team_a)
    now = timezone.now()
    task = followup_create(
        actor=org.agent1,
        customer=ticket.customer,
        ticket=ticket,
        due_at=now + timedelta(minutes=5),
        at=now,
    )
    assert followups_remind(now=now) == 1
    assert followups_remind(now=now) == 0
    client.force_login(org.agent1)
    page = client.get("/agents/desktop/").content.decode()
    assert f'data-followup="{task.pk}"' in page and 'class="due"' in page
    assert client.post(f"/tickets/followups/{task.pk}/done/").status_code == 302
    assert FollowUpTask.objects.get().done_at is not None


def test_today_figures_follow_the_formulas(client, org):
    assert today_figures_for(org.agent1).aht_seconds is None  # nothing handled: no value
    call = call_in_wrapup(org)
    client.force_login(org.agent1)
    post_wrapup(client, org, call, "메모")
    call.refresh_from_db()
    figures = today_figures_for(org.agent1)
    assert figures.handled == 1
    expected = (call.talk_seconds or 0) + call.hold_seconds + (call.acw_seconds or 0)
    assert abs(figures.aht_seconds - expected) < 1e-6
    assert GENERAL_NUMBER  # the call came in on the general line


def test_the_resolved_box_starts_unticked_and_each_disposition_says_if_it_resolves(client, org):
    call_in_wrapup(org)
    client.force_login(org.agent1)
    body = client.get(reverse("desk:desktop")).content.decode()
    box = re.search(r'<input[^>]*name="resolve"[^>]*>', body).group(0)
    assert "checked" not in box
    for disposition in org.general.dispositions.all():
        flag = "1" if disposition.resolves else "0"
        assert re.search(rf'<option value="{disposition.pk}"[^>]*data-resolves="{flag}"', body)
