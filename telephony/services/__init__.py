"""Every write about calls. One module per concern:

- `calls`: receiving, answering, ending, wrap-up and the callbacks about one call
- `routing`: the ACD (pairing calls with agents), offer deadlines and the stuck-state reaper
- `common`: the audit-trail writer and the sid → live segment lookup

Callers import from `telephony.services`; the names below are the public surface.
"""

from telephony.services.bridging import (
    call_bridge_requested,
    call_dial_result,
    call_escalate,
    call_hold,
    call_resume,
    call_transfer,
    conference_event,
    lead_escalations_only,
    transfer_cancel,
    transfer_complete,
)
from telephony.services.calls import (
    call_bridge_failed,
    call_hangup,
    call_left_queue,
    call_notepad_save,
    call_queue_timeout,
    call_receive,
    call_receive_as_callback,
    call_recording_update,
    call_request_callback,
    call_status_update,
    call_to_voicemail,
    offer_accept,
    wrapup_submit,
    wrapups_expire_due,
)
from telephony.services.common import (
    LIVE_PHASES,
    QueueFullError,
    UnknownNumberError,
    call_for_sid,
)
from telephony.services.messages import (
    sms_receive,
    voicemail_caller_reveal,
    voicemail_mark_handled,
    voicemail_record,
)
from telephony.services.monitoring import call_monitor, call_monitor_stop
from telephony.services.outbound import (
    AgentBusyError,
    call_callback_dialled,
    call_dial_failed,
    call_dial_out,
    call_dialled,
    dials_expire_stuck,
)
from telephony.services.routing import (
    acd_offer_next,
    acd_route,
    acd_sweep,
    agents_heal_stuck,
    offers_expire_due,
)

__all__ = [
    "call_bridge_requested",
    "call_dial_result",
    "call_escalate",
    "call_hold",
    "call_monitor",
    "call_monitor_stop",
    "call_resume",
    "call_transfer",
    "conference_event",
    "lead_escalations_only",
    "transfer_cancel",
    "transfer_complete",
    "sms_receive",
    "voicemail_caller_reveal",
    "voicemail_mark_handled",
    "voicemail_record",
    "AgentBusyError",
    "call_callback_dialled",
    "call_dial_failed",
    "call_dial_out",
    "call_dialled",
    "dials_expire_stuck",
    "LIVE_PHASES",
    "QueueFullError",
    "UnknownNumberError",
    "call_queue_timeout",
    "call_request_callback",
    "call_receive_as_callback",
    "call_to_voicemail",
    "acd_offer_next",
    "call_bridge_failed",
    "acd_route",
    "acd_sweep",
    "agents_heal_stuck",
    "call_for_sid",
    "call_hangup",
    "call_left_queue",
    "call_receive",
    "call_recording_update",
    "call_status_update",
    "offer_accept",
    "offers_expire_due",
    "call_notepad_save",
    "wrapup_submit",
    "wrapups_expire_due",
]
