"""`{% softphone %}`: the browser softphone's indicator and script, for any page that takes calls."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import reverse

from telephony.softphone import softphone_may_register

register = template.Library()


@register.inclusion_tag("telephony/softphone.html", takes_context=True)
def softphone(context) -> dict:
    request = context.get("request")
    person = getattr(request, "user", None)
    return {
        "enabled": bool(person and person.is_authenticated and softphone_may_register(person)),
        "mode": settings.TELEPHONY_MODE,
        "token_url": reverse("telephony:softphone-token"),
    }
