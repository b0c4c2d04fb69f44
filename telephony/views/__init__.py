"""Telephony's views, by who calls them:

- `webhooks`: Twilio (signed, idempotent, malformed → 400)
- `agent`: the agent's and team lead's call actions on the desktop and team board (htmx)
- `pages`: the softphone's token, recording and voicemail playback, voicemails, the IVR tree
"""

from telephony.views.agent import (
    call_dial_out,
    call_escalate,
    call_hangup,
    call_hold,
    call_monitor,
    call_notepad,
    call_resume,
    call_transfer,
    escalations_only,
    offer_accept,
    transfer_cancel,
    transfer_complete,
    wrapup_submit,
)
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
    "call_dial_out",
    "call_escalate",
    "escalations_only",
    "call_hangup",
    "call_hold",
    "call_monitor",
    "call_recording_audio",
    "call_resume",
    "call_transfer",
    "ivr_tree",
    "offer_accept",
    "sms_incoming",
    "softphone_token",
    "transfer_cancel",
    "transfer_complete",
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
    "call_notepad",
    "wrapup_submit",
]
