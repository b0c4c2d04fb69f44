"""A team lead or manager in an agent's live call: listen, whisper, barge in, stop.

The lead is one participant of the call's conference, labelled monitor-<id>: listen =
muted; whisper = Twilio's coaching (heard by the agent only, `CallSidToCoach` = the
agent's leg); barge = an ordinary participant (customer and agent both hear them).
Changing mode updates that participant; stop removes it. The call's events say who is
listening how: the newest "monitor" / "monitor_stop" event of each lead.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Person
from agents.roles import can
from telephony.models import Call, CallPhase
from telephony.services.bridging import _conference, _gateway, agent_label
from telephony.services.common import _event

MONITOR_MODES = {"listen", "whisper", "barge"}


def monitor_label(person_id: int) -> str:
    return f"monitor-{person_id}"


def monitor_mode_of(call: Call, lead: Person) -> str:
    """How `lead` is in the call now: "listen", "whisper", "barge", or "" (not in it)."""
    last = (
        call.events.filter(kind__in=["monitor", "monitor_stop"], actor=lead)
        .order_by("-id")
        .values_list("kind", "data")
        .first()
    )
    if last is None or last[0] != "monitor":
        return ""
    return last[1].get("mode", "")


def _lock_monitored_call(lead: Person, call_id: int) -> Call:
    from telephony.selectors import calls_visible_to

    if not can(lead, "listen_to_calls"):
        raise PermissionDenied
    call = (
        calls_visible_to(lead)
        .select_for_update(of=("self",))
        .select_related("queue")
        .filter(pk=call_id)
        .first()
    )
    if call is None:
        raise PermissionDenied
    return call


@transaction.atomic
def call_monitor(*, lead: Person, call_id: int, mode: str, at: datetime | None = None) -> Call:
    """A team lead or manager joins a live call of someone they oversee, or changes how they
    are in it: muted (listen), heard by the agent only (whisper, Twilio's coaching) or heard
    by both (barge). The same mode twice changes nothing."""
    at = at or timezone.now()
    # Who may listen first: a refusal must not tell anyone else whether the call exists.
    call = _lock_monitored_call(lead, call_id)
    if mode not in MONITOR_MODES:
        raise ValidationError(_("Unknown listening mode."))
    if call.phase != CallPhase.CONNECTED:
        raise ValidationError(_("This call is no longer connected."))
    if mode == "whisper" and not call.agent_call_sid:
        raise ValidationError(_("The agent's line is not known yet; try listening."))
    current = monitor_mode_of(call, lead)
    if current == mode:
        return call
    _event(call, "monitor", at, actor=lead, mode=mode, was=current)
    conference, label = _conference(call), monitor_label(lead.pk)
    muted = mode == "listen"
    coach = call.agent_call_sid if mode == "whisper" else ""
    if current:
        kwargs = {"conference": conference, "label": label, "muted": muted, "coach_call_sid": coach}
        transaction.on_commit(lambda: _gateway().participant_update(**kwargs))
        return call
    kwargs = {
        "conference": conference,
        "call_sid": call.sid,
        "identity": agent_label(lead.pk),
        "from_number": call.queue.outbound_caller_id,
        "label": label,
        "muted": muted,
        "coach_call_sid": coach,
    }
    transaction.on_commit(lambda: _gateway().participant_add(**kwargs))
    return call


@transaction.atomic
def call_monitor_stop(*, lead: Person, call_id: int, at: datetime | None = None) -> Call:
    """The lead stops listening (or whispering, or talking): their leg leaves the
    conference; the customer and the agent carry on."""
    at = at or timezone.now()
    call = _lock_monitored_call(lead, call_id)
    current = monitor_mode_of(call, lead)
    if not current:
        raise ValidationError(_("You are not listening to this call."))
    _event(call, "monitor_stop", at, actor=lead, mode=current)
    if call.phase == CallPhase.CONNECTED:
        conference, sid, label = _conference(call), call.sid, monitor_label(lead.pk)
        transaction.on_commit(
            lambda: _gateway().participant_remove(conference=conference, call_sid=sid, label=label)
        )
    return call
