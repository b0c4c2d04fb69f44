"""Retention: recordings, call notes and text-message bodies older than their setting
(RETENTION_RECORDING_DAYS, RETENTION_CALL_NOTE_DAYS, RETENTION_SMS_DAYS; 0 keeps them
forever) are removed. Rows stay: a note's text becomes a neutral marker, a recording loses
its media and URL, a message its body; calls, tickets, dispositions, surveys' scores and QA
evaluations are untouched, so KPI rollups and QA figures do not move.

Age counts from when the thing was made: the call's arrival, the voicemail's, the note's,
the message's (a survey reply: when it was answered)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from privacy.markers import expired_marker
from privacy.models import RetentionPurge
from privacy.services.recordings import (
    calls_with_recording,
    recordings_remove,
    voicemails_with_recording,
)
from telephony.gateway import Gateway
from telephony.models import Call, SimulatorMessage, SmsMessage, Survey, Voicemail
from tickets.models import TicketNote

CHUNK = 1000
KINDS = (
    "recordings",
    "voicemail_recordings",
    "call_notes",
    "sms_bodies",
    "survey_replies",
    "simulator_sms",
)


@dataclass
class RetentionResult:
    cutoffs: dict[str, datetime | None]
    counts: dict[str, int]
    failed: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


def retention_cutoffs(now: datetime | None = None) -> dict[str, datetime | None]:
    """The moment before which each kind goes; None where it is kept forever."""
    now = now or timezone.now()

    def cutoff(days: int) -> datetime | None:
        return now - timedelta(days=days) if days and days > 0 else None

    return {
        "recordings": cutoff(settings.RETENTION_RECORDING_DAYS),
        "call_notes": cutoff(settings.RETENTION_CALL_NOTE_DAYS),
        "sms": cutoff(settings.RETENTION_SMS_DAYS),
    }


def _expired(cutoffs: dict[str, datetime | None]) -> dict[str, QuerySet]:
    """The rows each kind would empty (already emptied ones excluded)."""
    marker = expired_marker()
    rec, notes, sms = cutoffs["recordings"], cutoffs["call_notes"], cutoffs["sms"]
    none = {
        "recordings": Call.objects.none(),
        "voicemail_recordings": Voicemail.objects.none(),
        "call_notes": TicketNote.objects.none(),
        "sms_bodies": SmsMessage.objects.none(),
        "survey_replies": Survey.objects.none(),
        "simulator_sms": SimulatorMessage.objects.none(),
    }
    qs = dict(none)
    if rec is not None:
        qs["recordings"] = calls_with_recording(Call.objects.filter(enqueued_at__lt=rec))
        qs["voicemail_recordings"] = voicemails_with_recording(
            Voicemail.objects.filter(received_at__lt=rec)
        )
    if notes is not None:
        # Wrap-up notes: a ticket note written for a call (ticket_record_call).
        qs["call_notes"] = TicketNote.objects.filter(
            call__isnull=False, created_at__lt=notes
        ).exclude(body=marker)
    if sms is not None:
        qs["sms_bodies"] = (
            SmsMessage.objects.filter(at__lt=sms).exclude(body="").exclude(body=marker)
        )
        qs["survey_replies"] = (
            Survey.objects.filter(answered_at__lt=sms)
            .exclude(reply_text="")
            .exclude(reply_text=marker)
        )
        # Simulated mode's log of the messages it "sent" and "received".
        qs["simulator_sms"] = SimulatorMessage.objects.filter(action="sms", at__lt=sms).exclude(
            data__has_key="purged"
        )
    return qs


def retention_plan(*, now: datetime | None = None) -> RetentionResult:
    """What a purge would remove now, per kind; changes nothing."""
    cutoffs = retention_cutoffs(now)
    counts = {kind: qs.count() for kind, qs in _expired(cutoffs).items()}
    return RetentionResult(cutoffs=cutoffs, counts=counts, dry_run=True)


def _update_in_chunks(qs: QuerySet, **values) -> int:
    done = 0
    while ids := list(qs.order_by("pk").values_list("pk", flat=True)[:CHUNK]):
        done += qs.model.objects.filter(pk__in=ids).update(**values)
    return done


def retention_purge(
    *, now: datetime | None = None, gateway: Gateway | None = None
) -> RetentionResult:
    """Removes what retention_plan lists, chunk by chunk (each chunk commits on its own, so
    a long first purge neither holds locks nor starts over), and records the run."""
    now = now or timezone.now()
    cutoffs = retention_cutoffs(now)
    qs = _expired(cutoffs)
    marker = expired_marker()
    counts, failed = recordings_remove(
        calls=qs["recordings"], voicemails=qs["voicemail_recordings"], gateway=gateway
    )
    counts["call_notes"] = _update_in_chunks(qs["call_notes"], body=marker)
    counts["sms_bodies"] = _update_in_chunks(qs["sms_bodies"], body=marker)
    counts["survey_replies"] = _update_in_chunks(qs["survey_replies"], reply_text=marker)
    counts["simulator_sms"] = _update_in_chunks(qs["simulator_sms"], data={"purged": True})
    RetentionPurge.objects.create(
        at=now,
        cutoffs={kind: c.isoformat() if c else None for kind, c in cutoffs.items()},
        removed=counts,
        failed={kind: n for kind, n in failed.items() if n},
    )
    return RetentionResult(cutoffs=cutoffs, counts=counts, failed=failed)
