"""The factories build rows the app itself could have written: numbers in E.164 that
`phonenumbers` accepts, free text the PII guard finds nothing in, a call's times in order
for every trait, and a whole small org from one call."""

from __future__ import annotations

import phonenumbers
import pytest

from callcenter.pii import pii_scan
from telephony.models import CallPhase
from tests.factories import (
    CallFactory,
    CustomerFactory,
    EvaluationFactory,
    PersonFactory,
    SurveyFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


def test_numbers_are_valid_korean_e164():
    call = CallFactory()
    for number in (CustomerFactory().phone, call.from_number, call.to_number):
        parsed = phonenumbers.parse(number, None)
        assert phonenumbers.is_valid_number(parsed), number
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == number
        assert phonenumbers.region_code_for_number(parsed) == "KR"


def test_free_text_trips_no_pii_guard():
    ticket = TicketFactory()
    assert pii_scan(ticket.subject) == [] and pii_scan(ticket.customer.name) == []


def test_a_handled_call_stands_alone_with_its_agent_team_and_queue():
    agent = PersonFactory(team__department__name="일반")
    call = CallFactory(agent=agent)
    assert call.phase == CallPhase.COMPLETED and call.team == agent.team
    assert call.queue.department == call.department == agent.team.department
    assert call.enqueued_at < call.answered_at < call.ended_at < call.wrapup_ended_at
    assert (call.talk_seconds, call.acw_seconds, call.queue_wait_seconds) == (120.0, 30.0, 20.0)


@pytest.mark.parametrize(
    ("trait", "phase", "answered", "ended"),
    [
        ("abandoned", CallPhase.ABANDONED, False, True),
        ("queued", CallPhase.QUEUED, False, False),
        ("ringing", CallPhase.OFFERED, False, False),
        ("connected", CallPhase.CONNECTED, True, False),
        ("in_wrapup", CallPhase.WRAP_UP, True, True),
    ],
)
def test_each_trait_gives_its_phase_and_times(trait, phase, answered, ended):
    call = CallFactory(**{trait: True})
    assert call.phase == phase
    assert (call.answered_at is not None, call.ended_at is not None) == (answered, ended)
    assert call.wrapup_ended_at is None and call.acw_seconds is None


def test_a_call_ended_at_a_moment_keeps_its_durations():
    ended = CallFactory().ended_at
    call = CallFactory(ended=ended, wait=5, talk=60, hold=10, recorded=True)
    assert call.ended_at == ended
    assert (call.ended_at - call.answered_at).total_seconds() == 70
    assert (call.answered_at - call.enqueued_at).total_seconds() == 5
    assert call.recording_sid and call.recording_duration_seconds == 60


def test_surveys_and_evaluations_follow_their_call():
    survey = SurveyFactory(answered=True)
    assert survey.call_sid == survey.call.sid and survey.answered_at > survey.sent_at
    evaluation = EvaluationFactory(submitted=True)
    assert evaluation.agent == evaluation.call.agent
    assert evaluation.month.day == 1 and evaluation.score is not None
