"""`{% bridge_controls call %}`: hold, transfer and 실장 escalation on the agent's live call."""

from __future__ import annotations

from django import template

from telephony.selectors import bridge_options_for

register = template.Library()


@register.inclusion_tag("telephony/_bridge_controls.html", takes_context=True)
def bridge_controls(context, call) -> dict:
    options = bridge_options_for(context["request"].user, call)
    options["csrf_token"] = context.get("csrf_token")
    return options


@register.simple_tag(takes_context=True)
def live_calls_by_agent(context) -> dict:
    """The connected calls the viewer may see, by agent (one query for the whole board)."""
    from django.db.models import Exists, OuterRef

    from agents.scoping import calls_visible_to
    from telephony.models import CallEvent, CallPhase

    viewer = context["request"].user
    monitoring = CallEvent.objects.filter(call=OuterRef("pk"), kind="monitor", actor=viewer)
    calls = (
        calls_visible_to(viewer)
        .filter(phase=CallPhase.CONNECTED)
        .only("pk", "agent_id", "from_number", "answered_at")
        .annotate(monitored_by_viewer=Exists(monitoring))  # the board says "listening"
    )
    return {call.agent_id: call for call in calls}


@register.filter
def live_call_of(live: dict, person_id: int):
    return live.get(person_id) if live else None
