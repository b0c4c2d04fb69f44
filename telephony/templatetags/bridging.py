"""`{% bridge_controls call %}`: hold, transfer and 실장 연결 on the agent's live call;
`{% handover_notice call %}`: where the caller went; `{% escalation_mode status %}`: a
실장's "escalations only"; `{% monitor_controls call %}`: listen / whisper / barge / stop."""

from __future__ import annotations

from django import template

from telephony.selectors import bridge_options_for, handover_of

register = template.Library()


@register.inclusion_tag("telephony/_bridge_controls.html", takes_context=True)
def bridge_controls(context, call) -> dict:
    options = bridge_options_for(context["request"].user, call)
    options["csrf_token"] = context.get("csrf_token")
    return options


@register.inclusion_tag("telephony/_handover_notice.html")
def handover_notice(call) -> dict:
    return {"handover": handover_of(call)}


@register.simple_tag
def handed_in(call) -> str:
    """On an offered segment: "실장 연결 · <agent>" (or "Transferred · <agent>"), so the
    one it rings knows who hands the caller over and why."""
    from django.utils.html import format_html
    from django.utils.translation import gettext as _

    from telephony.models import Handover

    event = (
        call.events.filter(kind="transferred_in")
        .select_related("actor")
        .order_by("-id")
        .only("data", "actor__display_name")
        .first()
    )
    if event is None:
        return ""
    escalation = event.data.get("transfer_kind") == "escalation"
    label = Handover.ESCALATED.label if escalation else Handover.TRANSFERRED.label
    warm = _("talk first") if event.data.get("warm") else ""
    return format_html(
        '<span class="pill warn" id="handed-in" data-kind="{}">{} · {}{}</span> ',
        event.data.get("transfer_kind", ""),
        label,
        event.actor.display_name if event.actor else "–",
        f" · {warm}" if warm else "",
    )


@register.inclusion_tag("telephony/_escalation_mode.html", takes_context=True)
def escalation_mode(context, status) -> dict:
    return {"status": status, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("telephony/_monitor_controls.html", takes_context=True)
def monitor_controls(context, call, error: str = "") -> dict:
    mode = getattr(call, "monitor_mode", None)
    if mode is None:
        from telephony.services.monitoring import monitor_mode_of

        mode = monitor_mode_of(call, context["request"].user)
    return {"call": call, "mode": mode, "error": error, "csrf_token": context.get("csrf_token")}


@register.simple_tag(takes_context=True)
def live_calls_by_agent(context) -> dict:
    """The connected calls the viewer may see, by agent, each with how the viewer is in it
    (`monitor_mode`: listen, whisper, barge or ""): two queries for the whole board."""
    from telephony.models import CallEvent, CallPhase
    from telephony.selectors import calls_visible_to

    viewer = context["request"].user
    calls = list(
        calls_visible_to(viewer)
        .filter(phase=CallPhase.CONNECTED)
        .only("pk", "agent_id", "from_number", "answered_at")
    )
    last: dict[int, tuple[str, dict]] = {}
    events = (
        CallEvent.objects.filter(
            call_id__in=[c.pk for c in calls], actor=viewer, kind__in=["monitor", "monitor_stop"]
        )
        .order_by("id")
        .values_list("call_id", "kind", "data")
    )
    for call_id, kind, data in events:
        last[call_id] = (kind, data)
    for call in calls:
        kind, data = last.get(call.pk, ("", {}))
        call.monitor_mode = data.get("mode", "") if kind == "monitor" else ""
    return {call.agent_id: call for call in calls}


@register.filter
def live_call_of(live: dict, person_id: int):
    return live.get(person_id) if live else None
