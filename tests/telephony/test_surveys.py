"""Post-call CSAT: the IVR opt-in and DTMF survey after the agent hangs up, the SMS survey
and its reply at /telephony/sms/incoming/ (signed, matched to call and agent, one polite
clarification for late or non-number replies), and what reaches the rollups."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from itertools import count
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from kpi.scopes import KpiScope
from kpi.selectors.rows import rows_for_scopes
from kpi.services.watermarks import kpi_fill_incremental
from telephony.models import Survey, SurveyChannel
from telephony.services import surveys
from telephony.services.calls import call_hangup, call_status_update, offer_accept
from telephony.services.receiving import call_receive
from telephony.services.routing import acd_route
from telephony.services.wrapup import wrapup_submit
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER, make_available, post_signed
from tests.telephony.test_ivr import first_gather, menu, press, short_wait  # noqa: F401

MOBILE = "+821055556666"
LANDLINE = "+82221234567"
SMS_URL = "/telephony/sms/incoming/"
MSG = count(1)


class FakeGateway:
    def __init__(self):
        self.requests = []

    def __getattr__(self, name):
        def record(**kwargs):
            self.requests.append((name, kwargs))

        return record


@pytest.fixture
def gateway(monkeypatch):
    fake = FakeGateway()
    monkeypatch.setattr("telephony.gateway.get_gateway", lambda: fake)
    return fake


def connected_call(org, *, from_number=MOBILE):
    make_available(org.agent1)
    call = call_receive(sid=new_call_sid(), from_number=from_number, to_number=GENERAL_NUMBER)
    (offer,) = acd_route()
    offer_accept(agent=org.agent1, offer_id=offer.pk)
    return call


def handled_call(org, *, from_number=MOBILE):
    call = connected_call(org, from_number=from_number)
    call_hangup(agent=org.agent1, call_id=call.pk)
    wrapup_submit(
        agent=org.agent1,
        call_id=call.pk,
        disposition_id=org.general.dispositions.first().pk,
        note="n",
        subject="s",
    )
    call.refresh_from_db()
    return call


def xml(response):
    assert response.status_code == 200, response.content
    return ElementTree.fromstring(response.content)


def gather_action(root) -> str:
    return unescape(root.find("Gather").get("action")).removeprefix("https://sangdam.example.com")


# --- IVR --------------------------------------------------------------------------------


def test_the_voice_menu_asks_for_the_survey_and_1_opts_in(client, org, menu, settings):  # noqa: F811
    settings.CSAT_IVR_OPT_IN = True
    short_wait(org)
    root = xml(press(client, first_gather(client), "3"))
    action = gather_action(root)
    assert "/telephony/voice/survey/" in action and "step=optin" in action
    from tests.telephony.test_ivr import SID

    root = xml(post_signed(client, action, {"CallSid": SID, "Digits": "1"}))
    assert root.find("Enqueue") is not None
    survey = Survey.objects.get(call_sid=SID)
    assert survey.channel == SurveyChannel.IVR and survey.opted_in_at and survey.sent_at is None
    # A retried webhook opts in once.
    post_signed(client, action, {"CallSid": SID, "Digits": "1"})
    assert Survey.objects.filter(call_sid=SID).count() == 1


def test_no_key_goes_to_the_queue_without_a_survey(client, org, menu, settings):  # noqa: F811
    settings.CSAT_IVR_OPT_IN = True
    short_wait(org)
    action = gather_action(xml(press(client, first_gather(client), "3")))
    from tests.telephony.test_ivr import SID

    root = xml(post_signed(client, action, {"CallSid": SID}))
    assert root.find("Enqueue") is not None
    assert not Survey.objects.exists()


def test_the_agent_hanging_up_sends_an_opted_in_caller_to_the_survey(
    org, gateway, django_capture_on_commit_callbacks
):
    call = connected_call(org)
    surveys.survey_ivr_opt_in(call_sid=call.sid, digits="1")
    with django_capture_on_commit_callbacks(execute=True):
        call_hangup(agent=org.agent1, call_id=call.pk)
    (request,) = [r for r in gateway.requests if r[0] in {"survey", "hangup"}]
    assert request[0] == "survey" and "step=start" in request[1]["url"]
    survey = Survey.objects.get(call_sid=call.sid)
    assert survey.sent_at and survey.agent == org.agent1 and survey.call == call


def test_a_caller_who_did_not_opt_in_is_hung_up_as_before(
    org, gateway, django_capture_on_commit_callbacks
):
    call = connected_call(org)
    with django_capture_on_commit_callbacks(execute=True):
        call_hangup(agent=org.agent1, call_id=call.pk)
    assert [r[0] for r in gateway.requests if r[0] in {"survey", "hangup"}] == ["hangup"]


def survey_path(sid, step, t=0):
    return f"/telephony/voice/survey/?step={step}&sid={sid}&lang=ko&t={t}"


@pytest.fixture
def surveyed(org, gateway, django_capture_on_commit_callbacks):
    call = connected_call(org)
    surveys.survey_ivr_opt_in(call_sid=call.sid, digits="1")
    with django_capture_on_commit_callbacks(execute=True):
        call_hangup(agent=org.agent1, call_id=call.pk)
    return call


def test_the_dtmf_survey_records_score_and_resolution(client, org, surveyed):
    sid = surveyed.sid
    root = xml(post_signed(client, survey_path(sid, "start"), {"CallSid": sid}))
    assert "step=score" in gather_action(root)
    root = xml(post_signed(client, survey_path(sid, "score"), {"CallSid": sid, "Digits": "4"}))
    assert "step=resolved" in gather_action(root)
    root = xml(post_signed(client, survey_path(sid, "resolved"), {"CallSid": sid, "Digits": "2"}))
    assert root.find("Hangup") is not None
    survey = Survey.objects.get(call_sid=sid)
    assert (survey.score, survey.resolved) == (4, False) and survey.answered_at
    # A replayed webhook with another key changes nothing.
    post_signed(client, survey_path(sid, "score"), {"CallSid": sid, "Digits": "1"})
    assert Survey.objects.get(call_sid=sid).score == 4


def test_a_wrong_key_repeats_the_question_once(client, org, surveyed):
    sid = surveyed.sid
    root = xml(post_signed(client, survey_path(sid, "score"), {"CallSid": sid, "Digits": "9"}))
    assert "t=1" in gather_action(root)
    root = xml(post_signed(client, survey_path(sid, "score", 1), {"CallSid": sid, "Digits": "7"}))
    assert root.find("Gather") is None and root.find("Hangup") is not None
    assert Survey.objects.get(call_sid=sid).score is None


def test_the_survey_webhook_is_signed_and_validated(client, org, surveyed):
    sid = surveyed.sid
    response = client.post(survey_path(sid, "score"), {"CallSid": sid, "Digits": "5"})
    assert response.status_code == 403
    assert post_signed(client, "/telephony/voice/survey/?step=x&sid=1", {}).status_code == 400
    assert Survey.objects.get(call_sid=sid).score is None


# --- SMS --------------------------------------------------------------------------------


def test_a_handled_call_from_a_mobile_gets_one_sms_survey(
    org, gateway, django_capture_on_commit_callbacks
):
    call = handled_call(org)
    handled_call(org, from_number=LANDLINE)  # a landline cannot text back
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys.survey_sms_send_due() == 1
        assert surveys.survey_sms_send_due() == 0  # the sweep runs again: nothing twice
    (sms,) = [r for r in gateway.requests if r[0] == "send_sms"]
    assert sms[1]["to"] == MOBILE and "1" in sms[1]["body"] and "5" in sms[1]["body"]
    survey = Survey.objects.get(channel=SurveyChannel.SMS)
    assert (survey.call, survey.agent, survey.phone) == (call, org.agent1, MOBILE)


def test_no_sms_survey_after_an_ivr_survey(org, gateway, django_capture_on_commit_callbacks):
    call = connected_call(org)
    surveys.survey_ivr_opt_in(call_sid=call.sid, digits="1")
    with django_capture_on_commit_callbacks(execute=True):
        call_hangup(agent=org.agent1, call_id=call.pk)
    wrapup_submit(
        agent=org.agent1,
        call_id=call.pk,
        disposition_id=org.general.dispositions.first().pk,
        note="n",
        subject="s",
    )
    assert surveys.survey_sms_send_due() == 0


def reply(client, body, *, sid=None, signed=True, from_number=MOBILE):
    params = {
        "MessageSid": sid or f"SM{next(MSG):032x}",
        "From": from_number,
        "To": GENERAL_NUMBER,
        "Body": body,
    }
    if signed:
        return post_signed(client, SMS_URL, params)
    return client.post(SMS_URL, params)


@pytest.fixture
def sms_survey(org, gateway):
    call = handled_call(org)
    surveys.survey_sms_send_due()
    return Survey.objects.get(channel=SurveyChannel.SMS, call_sid=call.sid)


def test_a_number_reply_is_matched_to_the_call_and_agent(client, org, sms_survey):
    root = xml(reply(client, " 5 "))
    assert root.find("Message") is None  # nothing to clarify
    survey = Survey.objects.get(pk=sms_survey.pk)
    assert survey.score == 5 and survey.agent == org.agent1 and survey.answered_at
    # It feeds the agent's CSAT through the rollups.
    kpi_fill_incremental()
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    (row,) = rows_for_scopes(
        [KpiScope("agent", org.agent1.pk, "a")], start=today, end=today + timedelta(days=1)
    )
    assert (row.csat_responses, row.csat) == (1, 1.0)


def test_an_unsigned_reply_is_refused_and_changes_nothing(client, org, sms_survey):
    assert reply(client, "5", signed=False).status_code == 403
    assert Survey.objects.get(pk=sms_survey.pk).score is None


def test_a_reply_that_is_not_a_number_gets_one_polite_clarification(client, org, sms_survey):
    first = xml(reply(client, "좋았어요"))
    assert first.find("Message") is not None
    second = xml(reply(client, "네 좋았어요"))
    assert second.find("Message") is None  # once only
    reply(client, "4점")  # still inside 24 h: the number counts
    assert Survey.objects.get(pk=sms_survey.pk).score == 4


def test_a_late_reply_gets_one_polite_message_and_is_not_counted(client, org, sms_survey):
    Survey.objects.filter(pk=sms_survey.pk).update(sent_at=timezone.now() - timedelta(hours=25))
    root = xml(reply(client, "5"))
    assert root.find("Message") is not None
    assert xml(reply(client, "5")).find("Message") is None
    assert Survey.objects.get(pk=sms_survey.pk).score is None


def test_a_retried_reply_webhook_is_recorded_once(client, org, sms_survey):
    reply(client, "3", sid="SM" + "a" * 32)
    reply(client, "3", sid="SM" + "a" * 32)
    survey = Survey.objects.get(pk=sms_survey.pk)
    assert survey.score == 3 and survey.reply_message_sid == "SM" + "a" * 32


def test_a_text_from_someone_never_surveyed_is_just_a_message(client, org, sms_survey):
    root = xml(reply(client, "5", from_number="+821099998888"))
    assert root.find("Message") is None
    assert Survey.objects.get(pk=sms_survey.pk).score is None


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("5", 5),
        ("５", 5),
        ("4점", 4),
        ("3 points", 3),
        ("1.", 1),
        ("6", None),
        ("45", None),
        ("좋아요", None),
        ("", None),
    ],
)
def test_parse_score(text, score):
    assert surveys.parse_score(text) == score


def test_survey_answers_show_in_the_customers_history(client, org, sms_survey):
    reply(client, "5")
    survey = Survey.objects.get(pk=sms_survey.pk)
    assert survey.customer_id
    client.force_login(org.lead1)
    body = client.get(f"/tickets/customers/{survey.customer_id}/").content.decode()
    assert "5 / 5" in body


def test_an_opt_in_whose_phone_survey_never_ran_gets_the_sms(org, gateway):
    call = connected_call(org)
    surveys.survey_ivr_opt_in(call_sid=call.sid, digits="1")
    Survey.objects.filter(call_sid=call.sid).update(opted_in_at=timezone.now())
    # The caller hung up before the agent did: no redirect, the phone survey never ran.
    call_status_update(sid=call.sid, status="completed", sequence_number=5)
    call.refresh_from_db()
    if call.phase != "completed":
        wrapup_submit(
            agent=org.agent1,
            call_id=call.pk,
            disposition_id=org.general.dispositions.first().pk,
            note="n",
            subject="s",
        )
    assert surveys.survey_sms_send_due() == 1
