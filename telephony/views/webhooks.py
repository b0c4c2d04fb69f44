"""Twilio webhooks: signed (`twilio_webhook`), idempotent, malformed bodies → 400."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
)
from twilio.twiml.messaging_response import MessagingResponse

from callcenter.inputs import parse_id
from telephony import ivr, ivr_menus, selectors, twiml
from telephony.forms import (
    CallStatusForm,
    GatherForm,
    IncomingCallForm,
    IvrStateForm,
    QueueResultForm,
    QueueWaitForm,
    RecordingForm,
    SmsIncomingForm,
    VoicemailForm,
    VoicemailStateForm,
    cleaned_fields,
)
from telephony.models import CallPhase, FullAction, Offer, OfferStatus
from telephony.security import twilio_webhook
from telephony.services.bridging import call_bridge_requested, call_dial_result, conference_event
from telephony.services.calls import call_left_queue, call_recording_update, call_status_update
from telephony.services.common import QueueFullError, UnknownNumberError, call_for_sid
from telephony.services.messages import sms_receive, voicemail_record
from telephony.services.receiving import (
    call_queue_timeout,
    call_receive,
    call_receive_as_callback,
    call_request_callback,
    call_to_voicemail,
)
from telephony.services.surveys import survey_sms_reply


def _twiml(response) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


def _bad_request(form) -> HttpResponse:
    return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")


@twilio_webhook
def voice_incoming(request: HttpRequest) -> HttpResponse:
    data = cleaned_fields(IncomingCallForm, request.POST)
    if data is None:
        form = IncomingCallForm(request.POST)
        form.is_valid()
        return _bad_request(form)
    menu = ivr_menus.root_menu_for_number(data["To"])
    if menu is not None:  # a number with a voice menu (대표번호): no call row until a queue
        return _twiml(ivr.incoming_response(menu, caller=data))
    try:
        call = call_receive(sid=data["CallSid"], from_number=data["From"], to_number=data["To"])
    except UnknownNumberError:
        return _twiml(twiml.not_in_service_response())
    except QueueFullError as full:
        try:
            return _twiml(queue_full_twiml(data, full.queue))
        except ValidationError as gone:  # a replay for a call that has since moved on
            return HttpResponse(" ".join(gone.messages), status=409, content_type="text/plain")
    return HttpResponse(twiml.enqueue_twiml(call), content_type="text/xml")


def queue_full_twiml(data: dict, queue, *, language: str = "ko", announce: bool = True):
    """Every line of the queue is taken: book a callback that keeps the caller's place, or
    take a voicemail (the queue's full_action)."""
    from telephony.models import FullAction

    if queue.full_action == FullAction.CALLBACK:
        call = call_receive_as_callback(
            sid=data["CallSid"],
            from_number=data["From"],
            to_number=data["To"],
            queue_id=queue.pk,
            language=language,
        )
        return twiml.callback_booked_response(call)
    return twiml.voicemail_response(
        reason="full", language=language, department_id=queue.department_id
    )


@twilio_webhook
def voice_queue_wait(request: HttpRequest) -> HttpResponse:
    """waitUrl, and the action of its Gather: position and expected wait at the queue's
    interval; "press 1" books a callback that keeps the place; at the maximum wait the
    caller leaves for a callback or voicemail (the Enqueue action then answers)."""
    form = QueueWaitForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    data = form.cleaned_data
    call = call_for_sid(data["CallSid"])
    if call is None:
        # Not a call we queued (or its row is gone): keep the caller company.
        return _twiml(
            twiml.hold_loop_response(
                None, position=data.get("QueuePosition"), expected_wait=None, offer_callback=False
            )
        )
    if data.get("Digits") == "1" and call.phase == CallPhase.QUEUED:
        try:
            call_request_callback(sid=call.sid)
        except ValidationError:
            pass  # an agent took the call meanwhile: it is being connected
        else:
            return _twiml(twiml.leave_queue_response())
    if call.is_callback:
        return _twiml(twiml.leave_queue_response())
    queue = call.queue
    if call_queue_timeout(sid=call.sid, call=call) is not None:
        return _twiml(twiml.leave_queue_response())
    position = selectors.queue_position(call)
    expected = selectors.queue_expected_wait_seconds(queue, position=position)
    return _twiml(
        twiml.hold_loop_response(
            call,
            position=position,
            expected_wait=expected,
            offer_callback=selectors.callback_worth_offering(queue, expected),
            pause_seconds=queue.announce_interval_seconds,
        )
    )


@twilio_webhook
def voice_queue_result(request: HttpRequest) -> HttpResponse:
    """Enqueue action. `redirected` means we bridged the caller to an agent: not an abandon.
    A hangup in the queue is an abandon (the status callback says the same; both are safe)."""
    form = QueueResultForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    data = form.cleaned_data
    call = call_left_queue(sid=data["CallSid"], result=data["QueueResult"])
    if call is None or data["QueueResult"] not in {"leave", "queue-full"}:
        return _twiml(twiml.VoiceResponse())
    if call.is_callback:
        return _twiml(twiml.callback_booked_response(call))
    if data["QueueResult"] == "queue-full" and call.queue.full_action == FullAction.CALLBACK:
        try:
            call = call_request_callback(sid=call.sid, reason="full")
        except ValidationError:
            return _twiml(twiml.VoiceResponse())  # no longer waiting: nothing to book
        return _twiml(twiml.callback_booked_response(call))
    # Over the maximum wait (or Twilio's own queue was full) with voicemail as the way out.
    call_to_voicemail(sid=call.sid)
    return _twiml(
        twiml.voicemail_response(
            reason=call.queue_exit or "full", language=call.language, call=call
        )
    )


@twilio_webhook
def voice_connect(request: HttpRequest) -> HttpResponse:
    """TwiML that bridges the caller to the agent who accepted the offer."""
    sid = request.POST.get("CallSid", "")
    offer_id = parse_id(request.GET.get("offer", ""))
    if offer_id is None:
        return HttpResponseBadRequest("offer must be an id")
    from django.db.models import Q

    # The leg that fetched it: the inbound call, a callback's leg, or a follow-up call.
    offer = (
        Offer.objects.select_related("call")
        .filter(Q(call__sid=sid) | Q(call__callback_sid=sid), pk=offer_id)
        .first()
    )
    if offer is None:
        return HttpResponseBadRequest("no such offer for this call")
    if offer.status != OfferStatus.ACCEPTED:
        return _twiml(twiml.requeue_response(offer.call))
    # The leg enters the call's conference; the agent is rung into it (once per offer).
    call_bridge_requested(offer_id=offer.pk, sid=sid)
    return _twiml(twiml.connect_response(offer.call, offer.agent_id, settings.TWILIO_RECORD_CALLS))


@twilio_webhook
def voice_status(request: HttpRequest) -> HttpResponse:
    form = CallStatusForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    data = form.cleaned_data
    call_status_update(
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
    call_id = request.GET.get("call", "")
    if call_id and parse_id(call_id) is None:
        return HttpResponseBadRequest("call must be an id")
    if not data["CallSid"] and not call_id:
        return HttpResponseBadRequest("CallSid or ?call= is required")
    call_recording_update(
        sid=data["CallSid"],
        recording_sid=data["RecordingSid"],
        url=data.get("RecordingUrl") or "",
        status=data["RecordingStatus"],
        duration=data.get("RecordingDuration"),
        call_id=parse_id(call_id),
        error_code=data.get("ErrorCode") or "",
    )
    return HttpResponse(status=204)


@twilio_webhook
def voice_ivr(request: HttpRequest) -> HttpResponse:
    """Gather action: the caller's key (Digits), words (SpeechResult) or nothing (timeout)
    at the menu named in the signed query string."""
    state = IvrStateForm.from_query(request.GET)
    if not state.is_valid():
        return _bad_request(state)
    form = GatherForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    where, data = state.cleaned_data, form.cleaned_data
    menu = ivr_menus.menu_get(where["menu"])
    if menu is None:
        return HttpResponseBadRequest("unknown menu", content_type="text/plain")
    response = ivr.answer_gather(
        menu=menu,
        lang=where["lang"],
        tries=where["tries"],
        digits=data.get("Digits") or "",
        speech=data.get("SpeechResult") or "",
        caller=ivr.CallerLeg(sid=data["CallSid"], from_number=data["From"], to_number=data["To"]),
        offer_queue=where.get("offer"),
    )
    return _twiml(response)


@twilio_webhook
def voice_voicemail(request: HttpRequest) -> HttpResponse:
    """Record action and recordingStatusCallback alike (Twilio ignores the TwiML of the
    latter): one Voicemail per RecordingSid, then thanks and goodbye."""
    state = VoicemailStateForm(request.GET)
    if not state.is_valid():
        return _bad_request(state)
    form = VoicemailForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    where, data = state.cleaned_data, form.cleaned_data
    call, department = where.get("call"), where.get("department")
    if call is not None and call.sid != data["CallSid"]:
        return HttpResponseBadRequest(
            "the voicemail is not of this call", content_type="text/plain"
        )
    voicemail_record(
        call_sid=data["CallSid"],
        recording_sid=data["RecordingSid"],
        reason=where["reason"],
        from_number=data.get("From") or "",
        department_id=department.pk if department else None,
        url=data.get("RecordingUrl") or "",
        status=data.get("RecordingStatus") or "",
        duration=data.get("RecordingDuration"),
    )
    lang = where.get("lang") or (call.language if call else "ko")
    return _twiml(ivr.voicemail_thanks_response(lang))


@twilio_webhook
def sms_incoming(request: HttpRequest) -> HttpResponse:
    form = SmsIncomingForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    data = form.cleaned_data
    message = sms_receive(
        sid=data["MessageSid"], from_number=data["From"], to_number=data["To"], body=data["Body"]
    )
    response = MessagingResponse()
    # A reply to a post-call survey, if it is one.
    clarification = survey_sms_reply(message=message)
    if clarification:
        response.message(clarification)
    return _twiml(response)


@twilio_webhook
def voice_conference(request: HttpRequest) -> HttpResponse:
    """Conference status callback (start end join leave hold); idempotent."""
    from telephony.forms import ConferenceForm

    form = ConferenceForm(request.POST)
    if not form.is_valid():
        return _bad_request(form)
    data = form.cleaned_data
    try:
        conference_event(
            conference_sid=data["ConferenceSid"],
            friendly_name=data["FriendlyName"],
            event=data["StatusCallbackEvent"],
            call_sid=data["CallSid"],
            label=data["ParticipantLabel"],
            sequence_number=data["SequenceNumber"],
        )
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain")
    return HttpResponse(status=204)


@twilio_webhook
def voice_dial_result(request: HttpRequest) -> HttpResponse:
    """`<Dial>` action of the customer's conference leg: hang up, unless a transfer is
    under way, in which case the leg rejoins the conference and holds for the next agent."""
    from telephony.forms import DialResultForm

    form = DialResultForm(request.POST)
    call_id = parse_id(request.GET.get("call", ""))
    if call_id is None:
        return HttpResponseBadRequest("call must be an id")
    if not form.is_valid():
        return _bad_request(form)
    waiting = call_dial_result(
        call_id=call_id,
        sid=form.cleaned_data["CallSid"],
        status=form.cleaned_data["DialCallStatus"],
    )
    if waiting is not None:
        return _twiml(
            twiml.conference_response(waiting, record=settings.TWILIO_RECORD_CALLS, rejoin=True)
        )
    return _twiml(twiml.hangup_response())


@twilio_webhook
def voice_hold(request: HttpRequest) -> HttpResponse:
    """Hold music: the held participant's holdUrl and the conference's waitUrl."""
    return _twiml(twiml.hold_music_response())
