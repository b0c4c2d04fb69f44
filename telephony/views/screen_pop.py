"""The screen pop: an agent links the caller of their live call to a customer (htmx, on the
desktop). The customer record is tickets'; the call is telephony's."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.views import render_desktop_panel
from callcenter.inputs import parse_id
from telephony.services import customers
from tickets.forms import PiiCheck


@login_required
@require_POST
def call_customer_link(request: HttpRequest, call_id: int) -> HttpResponse:
    """Screen pop: link the caller to a found customer, or create one with a name."""
    raw = request.POST.get("customer", "")
    if raw and parse_id(raw) is None:
        return HttpResponseBadRequest(_("Choose a customer from the list."))
    # The new customer's name is free text: an identifier in it is refused with what was
    # found (the quick-create box on the desk is edited, not confirmed).
    name = PiiCheck({"name": request.POST.get("name", "")}, action=request.POST.get("pii_action"))
    if name.blocked:
        found = ", ".join(f"{f['kind']} {f['masked']}" for f in name.pii_list())
        error = _("Personal data in the name (%(found)s): write the name only.") % {"found": found}
        return render_desktop_panel(request, error=error, status=422)
    try:
        customers.call_customer_link(
            agent=request.user,
            call_id=call_id,
            customer_id=parse_id(raw),
            name=name.texts["name"],
        )
    except ValidationError as exc:
        return render_desktop_panel(request, error=" ".join(exc.messages), status=409)
    if request.htmx:
        return render_desktop_panel(request)
    return redirect("agents:desktop")
