"""The agent's desktop in Debian's Chromium, as agents use it all day: what they type is never
lost to a refresh (another session changes their requests, follow-ups or the call), they
write 상담 메모 while talking and it carries into the wrap-up (masked before it is stored),
the letter shortcuts work with 한글 input on, and after the wrap-up the desk names the ticket."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import RequestKind
from telephony.models import Call
from telephony.services.customers import call_customer_link
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.simulator import new_call_sid
from tests.browser import test_call_flow as call_flow
from tests.conftest import GENERAL_NUMBER, make_available
from tests.factories import TicketFactory
from tickets.approvals import approval_request_create, approval_request_decide
from tickets.models import TicketNote
from tickets.services.followups import followup_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = call_flow.ARTIFACTS
login = call_flow.login
browser = call_flow.browser  # the same Chromium fixture as the call-flow test

RRN = "900101-1234567"


def ring_agent1(org, *, from_number="+821077778888"):
    """A call ringing for agent1 (routed by the ACD, no worker needed)."""
    call_receive(sid=new_call_sid(), from_number=from_number, to_number=GENERAL_NUMBER)
    make_available(org.agent1)
    (offer,) = acd_route()
    assert offer.agent == org.agent1
    return offer


def press(page, key: str, code: str) -> None:
    """A keydown as Chromium sends it with the Korean IME on: `key` is the jamo typed,
    `code` the physical key (Playwright's keyboard cannot type through an IME)."""
    page.evaluate(
        """([key, code]) => (document.activeElement || document.body).dispatchEvent(
            new KeyboardEvent("keydown", {key, code, bubbles: true, cancelable: true}))""",
        [key, code],
    )


def desk_in_wrapup(browser, live_server, org):
    from playwright.sync_api import expect

    offer = ring_agent1(org)
    page = login(browser, live_server.url, "agent1")
    page.wait_for_url("**/agents/desktop/")
    panel = page.locator("#desk-panel")
    page.locator("#btn-accept").click()
    expect(panel).to_have_attribute("data-state", "on_call")
    page.locator("#btn-hangup").click()
    expect(panel).to_have_attribute("data-state", "wrap_up")
    return page, offer.call


def test_a_half_typed_wrapup_survives_changes_from_other_sessions(live_server, org, browser):
    from playwright.sync_api import expect

    page, call = desk_in_wrapup(browser, live_server, org)
    form = page.locator("#wrapup-form")
    note = form.locator("textarea[name=note]")
    form.locator("select[name=disposition]").select_option(index=1)
    form.locator("input[name=subject]").fill("요금제 변경")
    note.fill("요금제 변경 문의, 다음 달부터 적용 안내")
    note.press("End")
    note.type(" 중")  # still typing, the caret in the note
    # The textarea node itself: a refresh that replaces the form loses this mark.
    page.evaluate("document.querySelector('#wrapup-form textarea[name=note]').dataset.mark = '1'")

    # Meanwhile, from other sessions: the 실장 decides a request, a follow-up is added.
    ticket = TicketFactory(team=org.team_a, assignee=org.agent1, subject="감면 요청")
    request = approval_request_create(
        requester=org.agent1, kind=RequestKind.ESCALATION, reason="감면 요구", ticket=ticket
    )
    expect(page.locator("#my-requests")).to_contain_text(ticket.number)
    approval_request_decide(decider=org.lead1, request_id=request.pk, approve=False, note="보류")
    followup_create(
        actor=org.agent1,
        customer=ticket.customer,
        due_at=timezone.now() + timedelta(minutes=30),
        note="결과 안내",
    )
    expect(page.locator("#followups")).to_contain_text("결과 안내")
    expect(page.locator("#my-requests")).to_contain_text("보류")
    page.wait_for_timeout(1500)  # more polls
    expect(note).to_have_value("요금제 변경 문의, 다음 달부터 적용 안내 중")
    assert page.evaluate(
        "document.querySelector('#wrapup-form textarea[name=note]').dataset.mark"
    ), "the side cards' refresh replaced the wrap-up form"
    expect(note).to_be_focused()

    # The call region itself must re-render (the caller gets linked to a customer, from a
    # colleague's session): what was typed comes back into the new form.
    call_customer_link(agent=org.agent1, call_id=call.pk, customer_id=None, name="김민수")
    expect(page.locator("#caller-name")).to_have_text("김민수")
    expect(note).to_have_value("요금제 변경 문의, 다음 달부터 적용 안내 중")
    expect(form.locator("input[name=subject]")).to_have_value("요금제 변경")
    expect(form.locator("select[name=disposition]")).not_to_have_value("")
    page.screenshot(path=ARTIFACTS / "desk-typing-kept.png")

    note.press("Control+Enter")
    expect(page.locator("#desk-panel")).to_have_attribute("data-state", "available")
    assert TicketNote.objects.get(ticket__calls=call).body == (
        "요금제 변경 문의, 다음 달부터 적용 안내 중"
    )


def test_call_notes_carry_into_the_wrapup_and_are_stored_masked(live_server, org, browser):
    from playwright.sync_api import expect

    offer = ring_agent1(org)
    page = login(browser, live_server.url, "agent1")
    page.wait_for_url("**/agents/desktop/")
    panel = page.locator("#desk-panel")
    page.locator("#btn-accept").click()
    expect(panel).to_have_attribute("data-state", "on_call")

    notepad = page.locator("#notepad-form")
    notepad.locator("textarea[name=note]").fill(f"본인 확인 주민번호 {RRN}, 요금 문의")
    notepad.locator("select[name=disposition]").select_option(index=1)
    # Saved as typed, masked before it is stored, and the agent sees what was found.
    expect(notepad.locator("#notepad-pii mark")).to_have_text(RRN)
    expect(notepad.locator("#notepad-pii code")).to_have_text("900101-1******")
    call = Call.objects.get(pk=offer.call_id)
    assert call.notepad == "본인 확인 주민번호 900101-1******, 요금 문의"
    assert call.notepad_disposition.code == "resolved"
    page.screenshot(path=ARTIFACTS / "desk-call-notes.png")

    page.locator("#btn-hangup").click()
    expect(panel).to_have_attribute("data-state", "wrap_up")
    form = page.locator("#wrapup-form")
    expect(form.locator("textarea[name=note]")).to_have_value(
        f"본인 확인 주민번호 {RRN}, 요금 문의"
    )
    expect(form.locator("select[name=disposition]")).to_have_value(str(call.notepad_disposition_id))
    expect(form.locator("input[name=resolve]")).to_be_checked()

    # A reload: the notes come back from the server, masked.
    page.reload()
    expect(form.locator("textarea[name=note]")).to_have_value(
        "본인 확인 주민번호 900101-1******, 요금 문의"
    )
    form.locator("input[name=subject]").fill("요금 문의")
    form.locator("textarea[name=note]").press("Control+Enter")
    expect(panel).to_have_attribute("data-state", "available")
    note = TicketNote.objects.get(ticket__calls=call)
    assert note.body == "본인 확인 주민번호 900101-1******, 요금 문의"
    assert RRN not in Call.objects.get(pk=call.pk).notepad


def test_letter_shortcuts_work_with_the_korean_ime_on(live_server, org, browser):
    from playwright.sync_api import expect

    ring_agent1(org)
    page = login(browser, live_server.url, "agent1")
    page.wait_for_url("**/agents/desktop/")
    panel = page.locator("#desk-panel")
    expect(page.locator("#btn-accept")).to_be_visible()
    press(page, "ㅁ", "KeyA")  # A, with 한글 input on
    expect(panel).to_have_attribute("data-state", "on_call")
    page.locator("body").click(position={"x": 5, "y": 300})  # nothing focused
    press(page, "ㅜ", "KeyN")  # N: the call notes
    expect(page.locator("#notepad-form textarea[name=note]")).to_be_focused()
    page.locator("body").click(position={"x": 5, "y": 300})
    press(page, "ㅗ", "KeyH")  # H: hang up
    expect(panel).to_have_attribute("data-state", "wrap_up")


def test_after_wrapup_the_desk_shows_the_ticket_until_dismissed_or_the_next_call(
    live_server, org, browser
):
    from playwright.sync_api import expect

    page, call = desk_in_wrapup(browser, live_server, org)
    form = page.locator("#wrapup-form")
    form.locator("select[name=disposition]").select_option(index=1)
    form.locator("input[name=subject]").fill("주소 변경")
    form.locator("textarea[name=note]").fill("주소 변경 완료")
    form.locator("textarea[name=note]").press("Control+Enter")
    notice = page.locator("#wrapup-notice")
    expect(notice).to_be_visible()
    call.refresh_from_db()
    expect(notice.locator("#notice-ticket")).to_have_text(call.ticket.number)
    assert notice.locator("#notice-ticket").get_attribute("href") == (f"/tickets/{call.ticket_id}/")
    page.wait_for_timeout(2500)  # polls
    expect(notice).to_be_visible()
    page.screenshot(path=ARTIFACTS / "desk-wrapup-notice.png")

    # The next call offered: the notice gives way to it.
    ring_agent1(org, from_number="+821033334444")
    expect(page.locator("#btn-accept")).to_be_visible()
    expect(notice).to_have_count(0)
    page.locator("#btn-accept").click()
    page.locator("#btn-hangup").click()
    form.locator("select[name=disposition]").select_option(index=1)
    form.locator("input[name=subject]").fill("요금 문의")
    form.locator("textarea[name=note]").fill("요금 안내")
    form.locator("textarea[name=note]").press("Control+Enter")
    expect(notice).to_be_visible()
    # Or the agent dismisses it.
    page.locator("#btn-notice-dismiss").click()
    expect(notice).to_have_count(0)
    page.wait_for_timeout(1500)  # polls
    expect(notice).to_have_count(0)
