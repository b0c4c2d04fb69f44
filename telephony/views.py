"""Twilio webhooks (signed, idempotent, malformed → 400) and the agent's call actions."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from agents.views import render_desktop_panel
from telephony import services, twiml
from telephony.forms import (
    CallStatusForm,
    IncomingCallForm,
    QueueResultForm,
    QueueWaitForm,
    RecordingForm,
)
from telephony.models import Call, Offer, OfferStatus
from telephony.security import twilio_webhook
from tickets.forms import WrapupForm


def _twiml(response) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


def _bad_request(form) -> HttpResponse:
    return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")


@twilio_webhook
def voice_incoming(request: HttpRequest) -> HttpResponse:
    form = IncomingCallForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    data = form.cleaned_data
    try:
        call = services.call_receive(
            sid=data["CallSid"], from_number=data["From"], to_number=data["To"]
        )
    except services.UnknownNumberError:
        return _twiml(twiml.not_in_service_response())
    return _twiml(twiml.enqueue_response(call))


@twilio_webhook
def voice_queue_wait(request: HttpRequest) -> HttpResponse:
    form = QueueWaitForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    return _twiml(twiml.hold_loop_response(form.cleaned_data.get("QueuePosition")))


@twilio_webhook
def voice_queue_result(request: HttpRequest) -> HttpResponse:
    """Enqueue action. `redirected` means we bridged the caller to an agent: not an abandon.
    A hangup in the queue is an abandon (the status callback says the same; both are safe)."""
    form = QueueResultForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    data = form.cleaned_data
    services.call_left_queue(sid=data["CallSid"], result=data["QueueResult"])
    return _twiml(twiml.VoiceResponse())


@twilio_webhook
def voice_connect(request: HttpRequest) -> HttpResponse:
    """TwiML that bridges the caller to the agent who accepted the offer."""
    sid = request.POST.get("CallSid", "")
    offer_id = request.GET.get("offer", "")
    if not offer_id.isdigit():
        return HttpResponseBadRequest("offer must be an id")
    offer = Offer.objects.select_related("call").filter(pk=int(offer_id), call__sid=sid).first()
    if offer is None:
        return HttpResponseBadRequest("no such offer for this call")
    if offer.status != OfferStatus.ACCEPTED:
        return _twiml(twiml.requeue_response(offer.call))
    return _twiml(twiml.connect_response(offer.call, offer.agent_id, settings.TWILIO_RECORD_CALLS))


@twilio_webhook
def voice_status(request: HttpRequest) -> HttpResponse:
    form = CallStatusForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    data = form.cleaned_data
    services.call_status_update(
        sid=data["CallSid"],
        status=data["CallStatus"],
        sequence_number=data.get("SequenceNumber"),
        duration=data.get("CallDuration"),
    )
    return HttpResponse(status=204)


@twilio_webhook
def voice_recording(request: HttpRequest) -> HttpResponse:
    form = RecordingForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    data = form.cleaned_data
    services.call_recording_update(
        sid=data["CallSid"],
        recording_sid=data["RecordingSid"],
        url=data.get("RecordingUrl") or "",
        status=data["RecordingStatus"],
        duration=data.get("RecordingDuration"),
    )
    return HttpResponse(status=204)


# --- Agent call actions (htmx; each answers with the refreshed desktop panel) -------------


def _panel_or_error(request: HttpRequest, action) -> HttpResponse:
    try:
        action()
    except ValidationError as exc:
        return render_desktop_panel(request, error=" ".join(exc.messages), status=409)
    if not request.htmx:
        return HttpResponseClientRefresh()
    return render_desktop_panel(request)


@login_required
@require_POST
def offer_accept(request: HttpRequest, offer_id: int) -> HttpResponse:
    return _panel_or_error(
        request, lambda: services.offer_accept(agent=request.user, offer_id=offer_id)
    )


@login_required
@require_POST
def call_hangup(request: HttpRequest, call_id: int) -> HttpResponse:
    return _panel_or_error(
        request, lambda: services.call_hangup(agent=request.user, call_id=call_id)
    )


@login_required
@require_POST
def wrapup_submit(request: HttpRequest, call_id: int) -> HttpResponse:
    call = get_object_or_404(
        Call.objects.select_related("department", "customer"), pk=call_id, agent=request.user
    )
    form = WrapupForm(request.POST, call=call, person=request.user)
    if not form.is_valid():
        return render_desktop_panel(request, wrapup_form=form, status=422)
    data = form.cleaned_data
    try:
        services.wrapup_submit(
            agent=request.user,
            call_id=call.pk,
            disposition_id=data["disposition"].pk,
            note=data["note"],
            ticket_id=int(data["ticket"]) if data["ticket"] else None,
            subject=data["subject"],
            resolve=data["resolve"],
        )
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return render_desktop_panel(request, wrapup_form=form, status=422)
    return render_desktop_panel(request)
