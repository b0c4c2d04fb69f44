from django import template
from django.utils.translation import gettext_lazy as _

from callcenter.clock import format_mss

register = template.Library()

EVENT_LABELS = {
    "submitted": _("Submitted"),
    "read": _("Read by the agent"),
    "acknowledged": _("Acknowledged"),
    "disputed": _("Disputed"),
    "upheld": _("Score upheld"),
    "changed": _("Score changed"),
    "coaching": _("Coaching plan created"),
}


@register.filter
def mmss(seconds) -> str:
    """Seconds as m:ss (a recording position or a duration)."""
    if seconds is None or seconds == "":
        return "–"
    return format_mss(max(0, int(float(seconds))))  # a position: the second it is in


@register.filter
def split_csv(value: str) -> list[str]:
    return value.split(",")


@register.filter
def event_label(kind: str) -> str:
    return EVENT_LABELS.get(kind, kind)


@register.simple_tag
def qa_value(answer, form_data, item) -> str:
    """The answer as the form shows it: `na`, a number without a needless `.0`, or ``."""
    if form_data is not None:
        return form_data.get(f"item-{item.pk}", "")
    if answer is None:
        return ""
    if answer.not_applicable:
        return "na"
    if answer.value is None:
        return ""
    if item.kind == "yes_no":
        return "1" if answer.value >= item.max_points else "0"
    return f"{answer.value:g}"


@register.simple_tag
def qa_note(answer, form_data, item) -> str:
    if form_data is not None:
        return form_data.get(f"note-{item.pk}", "")
    return answer.note if answer else ""


@register.filter
def score_class(value) -> str:
    if value is None:
        return ""
    return "score-low" if value < 70 else ("score-high" if value >= 90 else "")


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
