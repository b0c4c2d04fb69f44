"""Recording and voicemail playback through Sangdam.

The browser never sees the provider's URL: it asks Sangdam, which checks who may hear the
call (calls_visible_to) and relays the audio. In twilio mode the audio comes from Twilio's
REST API with the account's credentials; in simulated mode the simulator plays Twilio's part
and synthesises a WAV of the recording's length so the demo has something to play.
"""

from __future__ import annotations

import io
import math
import re
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.http import Http404

from agents.models import Person
from telephony.models import Call, Voicemail
from telephony.selectors import calls_visible_to, voicemails_visible_to

RECORDING_PLAYABLE = "completed"
MAX_SIMULATED_SECONDS = 600
SIMULATED_RATE = 8000
TWILIO_CONNECT_TIMEOUT = 5
TWILIO_READ_TIMEOUT = 30
CHUNK = 64 * 1024


class RecordingFetchError(Exception):
    """The provider did not hand over the audio (network, auth, missing media)."""


@dataclass
class RecordingAudio:
    """Audio ready to stream: the whole file (200) or one byte range of it (206)."""

    content_type: str
    chunks: Iterable[bytes]
    length: int | None = None
    status: int = 200
    content_range: str = ""
    accept_ranges: bool = False
    close: Callable[[], None] = field(default=lambda: None)


# --- Who may hear what --------------------------------------------------------------------


def call_recording_get_for(person: Person, call_id: int) -> Call:
    """The call, if `person` may see it and it has audio; 404 otherwise (no existence leak,
    and an `absent` or failed recording has nothing to play)."""
    call = calls_visible_to(person).filter(pk=call_id).first()
    if call is None or not call.recording_url or call.recording_status != RECORDING_PLAYABLE:
        raise Http404
    return call


def voicemail_get_for(person: Person, voicemail_id: int) -> Voicemail:
    """The voicemail, if `person` may see it (voicemails_visible_to) and it has audio; 404 otherwise."""
    voicemail = (
        voicemails_visible_to(person).filter(pk=voicemail_id).exclude(recording_url="").first()
    )
    if voicemail is None or voicemail.recording_status not in {"", RECORDING_PLAYABLE}:
        raise Http404
    return voicemail


# --- Byte ranges (what <audio> asks for to seek) ------------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """One `bytes=` range → (first, last) inclusive; None when absent or not understood (serve
    the whole file, as RFC 9110 allows); False when it cannot be satisfied (416)."""
    match = _RANGE.match(header.strip()) if header else None
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end


def audio_from_bytes(data: bytes, content_type: str, range_header: str = "") -> RecordingAudio:
    size = len(data)
    wanted = parse_range(range_header, size)
    if wanted is False:
        return RecordingAudio(
            content_type, [], 0, status=416, content_range=f"bytes */{size}", accept_ranges=True
        )
    if wanted is None:
        return RecordingAudio(content_type, [data], size, accept_ranges=True)
    start, end = wanted
    return RecordingAudio(
        content_type,
        [data[start : end + 1]],
        end - start + 1,
        status=206,
        content_range=f"bytes {start}-{end}/{size}",
        accept_ranges=True,
    )


# --- Simulated mode: the simulator's recording media --------------------------------------


@lru_cache(maxsize=4)
def simulated_wav(seconds: int) -> bytes:
    """A real WAV (8 kHz mono, 8-bit) of `seconds` (1..600): a quiet two-tone pattern, one
    second long, repeated, so the player shows the call's length and something audible."""
    seconds = max(1, min(int(seconds), MAX_SIMULATED_SECONDS))
    pattern = bytearray()
    for n in range(SIMULATED_RATE):
        t = n / SIMULATED_RATE
        if t < 0.35:
            freq = 440.0
        elif 0.5 <= t < 0.85:
            freq = 660.0
        else:
            freq = 0.0
        sample = 128 + (round(18 * math.sin(2 * math.pi * freq * t)) if freq else 0)
        pattern.append(sample)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(SIMULATED_RATE)
        out.writeframes(bytes(pattern) * seconds)
    return buffer.getvalue()


def simulated_recording_fetch(
    *, duration_seconds: int | None, range_header: str = ""
) -> RecordingAudio:
    return audio_from_bytes(simulated_wav(duration_seconds or 5), "audio/wav", range_header)


# --- Twilio mode --------------------------------------------------------------------------


def twilio_media_url(recording_url: str) -> str:
    """Twilio's RecordingUrl has no extension; `.mp3` asks for MP3 (smaller than the WAV)."""
    parts = urlsplit(recording_url)
    host = parts.hostname or ""
    # The account's credentials go to Twilio and nowhere else.
    if parts.scheme != "https" or not (host == "twilio.com" or host.endswith(".twilio.com")):
        raise RecordingFetchError("recording URL is not a Twilio URL")
    if parts.path.endswith((".mp3", ".wav")):
        return recording_url
    return recording_url + ".mp3"


def twilio_recording_fetch(
    *, url: str, range_header: str = "", session: requests.Session | None = None
) -> RecordingAudio:
    headers = {"Range": range_header} if range_header else {}
    http = session or requests.Session()
    try:
        response = http.get(
            twilio_media_url(url),
            auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN),
            headers=headers,
            stream=True,
            timeout=(TWILIO_CONNECT_TIMEOUT, TWILIO_READ_TIMEOUT),
        )
    except requests.RequestException as exc:
        raise RecordingFetchError(f"Twilio could not be reached: {exc.__class__.__name__}") from exc
    if response.status_code == 416:
        response.close()
        return RecordingAudio(
            "audio/mpeg",
            [],
            0,
            status=416,
            content_range=response.headers.get("Content-Range", ""),
        )
    if response.status_code not in (200, 206):
        response.close()
        raise RecordingFetchError(f"Twilio answered {response.status_code}")
    length = response.headers.get("Content-Length", "")
    return RecordingAudio(
        content_type=response.headers.get("Content-Type", "audio/mpeg").split(";")[0],
        chunks=_relay(response),
        length=int(length) if length.isdigit() else None,
        status=response.status_code,
        content_range=response.headers.get("Content-Range", ""),
        accept_ranges=response.headers.get("Accept-Ranges", "") == "bytes",
        close=response.close,
    )


def _relay(response: requests.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_content(CHUNK)
    except requests.RequestException:
        # Headers are gone already; the browser sees a short file and may retry with a Range.
        return
    finally:
        response.close()
