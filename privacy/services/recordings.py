"""Removing call recordings and voicemails: the media at the provider (Twilio's REST API in
twilio mode; the simulator keeps none) and then the row's URL. A recording the provider
refuses to delete keeps its row untouched, so the next run tries again."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from privacy.markers import RECORDING_DELETED
from telephony.gateway import Gateway, get_gateway
from telephony.models import Call, Voicemail

logger = logging.getLogger(__name__)
CHUNK = 500


def calls_with_recording(qs: QuerySet[Call]) -> QuerySet[Call]:
    return qs.exclude(recording_status=RECORDING_DELETED).exclude(
        Q(recording_sid="") & Q(recording_url="")
    )


def voicemails_with_recording(qs: QuerySet[Voicemail]) -> QuerySet[Voicemail]:
    return qs.exclude(recording_status=RECORDING_DELETED)


def _delete_media(gateway: Gateway, rows: Iterable[tuple[int, str]]) -> tuple[list[int], int]:
    """(ids whose media is gone, how many the provider refused)."""
    done: list[int] = []
    failed = 0
    deleted_sids: set[str] = set()
    for pk, sid in rows:
        if sid and sid not in deleted_sids:
            try:
                gateway.delete_recording(recording_sid=sid)
            except Exception as exc:  # the provider's error: keep the row for the next run
                failed += 1
                logger.warning("recording %s was not deleted: %s", sid, exc.__class__.__name__)
                continue
            deleted_sids.add(sid)
        done.append(pk)
    return done, failed


def recordings_remove(
    *, calls: QuerySet[Call], voicemails: QuerySet[Voicemail], gateway: Gateway | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """Deletes the recordings of `calls` and `voicemails` (querysets, filtered by the
    caller); returns (removed, failed) counts per kind. The call rows stay: their length,
    talk time and QA scores are not the recording's."""
    gateway = gateway or get_gateway()
    removed = {"recordings": 0, "voicemail_recordings": 0}
    failed = {"recordings": 0, "voicemail_recordings": 0}
    call_rows = list(calls_with_recording(calls).values_list("pk", "recording_sid"))
    done, failed["recordings"] = _delete_media(gateway, call_rows)
    for start in range(0, len(done), CHUNK):
        removed["recordings"] += Call.objects.filter(pk__in=done[start : start + CHUNK]).update(
            recording_url="", recording_status=RECORDING_DELETED
        )
    vm_rows = list(voicemails_with_recording(voicemails).values_list("pk", "recording_sid"))
    done, failed["voicemail_recordings"] = _delete_media(gateway, vm_rows)
    for start in range(0, len(done), CHUNK):
        removed["voicemail_recordings"] += Voicemail.objects.filter(
            pk__in=done[start : start + CHUNK]
        ).update(recording_url="", recording_status=RECORDING_DELETED)
    return removed, failed
