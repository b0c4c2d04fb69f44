"""Telephony's views, by who calls them:

- `webhooks`: Twilio (signed, idempotent, malformed → 400)
- `pages`: the softphone's token, recording and voicemail playback, voicemails, the IVR tree
"""

from telephony.views.pages import (
    call_recording_audio,
    ivr_tree,
    softphone_token,
    voicemail_audio,
    voicemail_handled,
    voicemail_list,
    voicemail_reveal,
)
from telephony.views.webhooks import (
    sms_incoming,
    voice_conference,
    voice_connect,
    voice_dial_result,
    voice_hold,
    voice_incoming,
    voice_ivr,
    voice_queue_result,
    voice_queue_wait,
    voice_recording,
    voice_status,
    voice_voicemail,
)

__all__ = [
    "call_recording_audio",
    "ivr_tree",
    "sms_incoming",
    "softphone_token",
    "voice_conference",
    "voice_connect",
    "voice_dial_result",
    "voice_hold",
    "voice_incoming",
    "voice_ivr",
    "voice_queue_result",
    "voice_queue_wait",
    "voice_recording",
    "voice_status",
    "voice_voicemail",
    "voicemail_audio",
    "voicemail_handled",
    "voicemail_list",
    "voicemail_reveal",
]
