"""Retention: old recordings, call notes and text bodies go, recent ones and every figure stay;
a dry run only counts; 0 keeps forever; twilio mode deletes at Twilio."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from twilio.base.exceptions import TwilioRestException
from twilio.http.response import Response

from callcenter.settings import base
from privacy import tasks
from privacy.markers import expired_marker
from privacy.models import RetentionPurge
from privacy.services.retention import retention_plan, retention_purge
from telephony.gateway import TwilioGateway
from telephony.models import Call, SimulatorMessage, SmsMessage, Survey, Voicemail
from tests.privacy.conftest import figures
from tests.privacy.test_erasure import TwilioApi
from tickets.models import TicketNote

EXPECTED = {
    "recordings": 3,  # hong_old, kim_old, hong_repeat (40 and 38 days old)
    "voicemail_recordings": 1,
    "call_notes": 3,
    "sms_bodies": 2,
    "survey_replies": 1,
    "simulator_sms": 0,  # the simulator's log is from today
}


@pytest.fixture
def thirty_days(settings):
    settings.RETENTION_RECORDING_DAYS = 30
    settings.RETENTION_CALL_NOTE_DAYS = 30
    settings.RETENTION_SMS_DAYS = 30


def snapshot():
    return {
        model: list(model.objects.order_by("pk").values())
        for model in (Call, Voicemail, TicketNote, SmsMessage, Survey, SimulatorMessage)
    }


def test_the_dry_run_prints_counts_per_kind_and_changes_nothing(world, thirty_days):
    before = snapshot()
    out = StringIO()
    call_command("purge_retention", "--dry-run", stdout=out)
    for kind, count in EXPECTED.items():
        assert f"would remove {kind}: {count}\n" in out.getvalue()
    assert snapshot() == before
    assert not RetentionPurge.objects.exists()


def test_the_purge_empties_what_is_older_than_the_setting_and_keeps_the_rows(world, thirty_days):
    before = snapshot()
    result = retention_purge()
    assert result.counts == EXPECTED
    assert {m: len(rows) for m, rows in snapshot().items()} == {
        m: len(rows) for m, rows in before.items()
    }
    c = world.calls
    for call in (c.hong_old, c.kim_old, c.hong_repeat):
        call.refresh_from_db()
        assert (call.recording_url, call.recording_status) == ("", "deleted")
        assert TicketNote.objects.get(call=call).body == expired_marker()
        assert call.talk_seconds and call.disposition_id  # the call itself is intact
    for call in (c.hong_recent, c.kim_recent):
        call.refresh_from_db()
        assert call.recording_status == "completed" and call.recording_url
        assert TicketNote.objects.get(call=call).body != expired_marker()
    assert Voicemail.objects.get().recording_url == ""
    assert SmsMessage.objects.get(sid="SM" + "1" * 32).body == expired_marker()
    assert SmsMessage.objects.get(sid="SM" + "2" * 32).body == "최근 문자"
    survey = Survey.objects.get()
    assert (survey.score, survey.reply_text) == (4, expired_marker())
    run = RetentionPurge.objects.get()
    assert run.removed == EXPECTED and run.failed == {}
    # Nothing is left to purge: a second run removes nothing.
    assert set(retention_purge().counts.values()) == {0}


def test_kpi_rollups_and_qa_averages_are_unchanged_by_a_purge(world, thirty_days):
    before = figures(world)
    retention_purge()
    assert figures(world) == before


def test_zero_or_empty_keeps_everything_forever(world, settings):
    settings.RETENTION_RECORDING_DAYS = 0
    settings.RETENTION_CALL_NOTE_DAYS = 0
    settings.RETENTION_SMS_DAYS = 0
    plan = retention_plan()
    assert set(plan.cutoffs.values()) == {None}
    assert set(plan.counts.values()) == {0}


def test_each_kind_has_its_own_setting(world, settings):
    settings.RETENTION_RECORDING_DAYS = 30
    settings.RETENTION_CALL_NOTE_DAYS = 0
    settings.RETENTION_SMS_DAYS = 0
    counts = retention_purge().counts
    assert counts["recordings"] == 3 and counts["call_notes"] == 0 and counts["sms_bodies"] == 0


def test_the_settings_read_days_and_refuse_anything_else(monkeypatch):
    monkeypatch.setenv("RETENTION_SMS_DAYS", "")
    assert base._retention_days("RETENTION_SMS_DAYS") == 0
    monkeypatch.setenv("RETENTION_SMS_DAYS", "90")
    assert base._retention_days("RETENTION_SMS_DAYS") == 90
    for bad in ("-1", "ninety", "²"):
        monkeypatch.setenv("RETENTION_SMS_DAYS", bad)
        with pytest.raises(base.environ.ImproperlyConfigured):
            base._retention_days("RETENTION_SMS_DAYS")
    assert base.CELERY_BEAT_SCHEDULE["retention-purge"]["task"] == "privacy.tasks.retention_purge"


def test_the_beat_task_runs_the_purge(world, thirty_days):
    tasks.retention_purge()
    assert RetentionPurge.objects.get().removed == EXPECTED


def test_in_twilio_mode_old_recordings_are_deleted_at_twilio_and_a_refusal_is_retried(
    world, thirty_days, settings
):
    c = world.calls
    refused = c.kim_old.recording_sid
    api = TwilioApi(refuse=[refused])
    result = retention_purge(gateway=TwilioGateway(api))
    base_url = f"https://api.twilio.com/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}"
    assert sorted(api.requests) == sorted(
        ("DELETE", f"{base_url}/Recordings/{sid}.json")
        for sid in (c.hong_old.recording_sid, refused, c.hong_repeat.recording_sid, "RE" + "v" * 32)
    )
    assert result.counts["recordings"] == 2 and result.failed["recordings"] == 1
    c.kim_old.refresh_from_db()
    assert c.kim_old.recording_status == "completed"  # kept for the next run
    again = TwilioApi()
    assert retention_purge(gateway=TwilioGateway(again)).counts["recordings"] == 1
    assert again.requests == [("DELETE", f"{base_url}/Recordings/{refused}.json")]


def test_a_recording_already_gone_at_twilio_counts_as_deleted():
    class Gone(TwilioApi):
        def request(self, method, url, *args, **kwargs):
            self.requests.append((method, url))
            return Response(404, '{"code": 20404, "message": "not found", "status": 404}')

    gone = Gone()
    TwilioGateway(gone).delete_recording(recording_sid="RE" + "0" * 32)
    assert [m for m, _ in gone.requests] == ["DELETE"]
    with pytest.raises(TwilioRestException):
        TwilioGateway(TwilioApi(refuse=["RE"])).delete_recording(recording_sid="RE" + "0" * 32)
