"""Every write about calls. One module per concern:

- `calls`: receiving, answering, ending, wrap-up and the callbacks about one call
- `routing`: the ACD (pairing calls with agents), offer deadlines and the stuck-state reaper
- `common`: the audit-trail writer and the sid → live segment lookup

Callers import from `telephony.services`; the names below are the public surface.
"""

from telephony.services.calls import (
    call_hangup,
    call_left_queue,
    call_receive,
    call_recording_update,
    call_status_update,
    offer_accept,
    wrapup_submit,
    wrapups_expire_due,
)
from telephony.services.common import LIVE_PHASES, UnknownNumberError, call_for_sid
from telephony.services.routing import (
    acd_offer_next,
    acd_route,
    acd_sweep,
    agents_heal_stuck,
    offers_expire_due,
)

__all__ = [
    "LIVE_PHASES",
    "UnknownNumberError",
    "acd_offer_next",
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
    "wrapup_submit",
    "wrapups_expire_due",
]
