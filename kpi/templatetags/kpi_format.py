from django import template

register = template.Library()


@register.filter
def mmss(seconds: float | None) -> str:
    """Seconds as m:ss; an absent figure (nothing measured) shows as a dash, never 0."""
    if seconds is None:
        return "–"
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f}%"
