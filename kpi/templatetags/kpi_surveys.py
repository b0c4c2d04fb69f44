"""The customer's post-call survey answers, for their history page (tickets)."""

from django import template

from telephony.models import Survey
from telephony.selectors import calls_visible_to

register = template.Library()


@register.inclusion_tag("kpi/_customer_surveys.html")
def customer_surveys(customer, viewer):
    """Answered surveys about calls of this customer that the viewer may see."""
    surveys = (
        Survey.objects.filter(
            customer=customer,
            score__isnull=False,
            call__in=calls_visible_to(viewer).filter(customer=customer),
        )
        .select_related("call__agent")
        .order_by("-answered_at")[:20]
    )
    return {"surveys": surveys}
