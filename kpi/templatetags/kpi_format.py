from django import template

from callcenter.clock import format_mss

register = template.Library()


@register.filter
def mmss(seconds: float | None) -> str:
    """Seconds as m:ss; an absent figure (nothing measured) shows as a dash, never 0."""
    if seconds is None:
        return "–"
    return format_mss(seconds)


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f}%"


@register.filter
def span_mmss(start, end) -> str:
    """The time between two moments as m:ss (h:mm:ss past an hour)."""
    if start is None or end is None:
        return "–"
    seconds = max(0, round((end - start).total_seconds()))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return format_mss(seconds)


@register.simple_tag(takes_context=True)
def drill(context, row, metric: str) -> str:
    """The URL of the calls behind one figure of a dashboard row, for the page's range."""
    from urllib.parse import urlencode

    from django.urls import reverse

    f = context.get("card_filters") or context["f"]
    query = urlencode(
        {
            "kind": row.scope.kind,
            "id": row.scope.id,
            "metric": metric,
            "start": f.first_day.isoformat(),
            "end": f.last_day.isoformat(),
        }
    )
    return f"{reverse('kpi:calls')}?{query}"


@register.filter
def num(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


@register.filter
def component_label(component: dict) -> str:
    from kpi.performance import component_label as label

    return label(component)


@register.filter
def component_how(component: dict) -> str:
    from kpi.performance import component_how as how

    return how(component)
