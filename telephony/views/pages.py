"""Pages and media: the softphone's token, recording and voicemail playback through
Sangdam (the provider's URLs never reach a browser), the voicemail list, the IVR tree."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agents.reach import require
from telephony import ivr_menus, recordings, softphone
from telephony.gateway import get_gateway
from telephony.selectors import voicemails_visible_to
from telephony.services.messages import voicemail_caller_reveal, voicemail_mark_handled
from tickets.models import Holiday
from tickets.templatetags.phone import phone

VOICEMAIL_PAGE_SIZE = 100


@login_required
@require_GET
def softphone_token(request: HttpRequest) -> HttpResponse:
    """A Voice access token for the Twilio JS SDK; 409 when the center is simulated or
    Twilio is not configured, so the page can say so instead of failing to register."""
    if not softphone.softphone_may_register(request.user):
        return JsonResponse(
            {"error": _("Only agents and team leads use the softphone.")}, status=403
        )
    try:
        issued = softphone.softphone_token_for(request.user)
    except softphone.SoftphoneUnavailable as exc:
        return JsonResponse({"error": str(exc), "mode": settings.TELEPHONY_MODE}, status=409)
    response = JsonResponse({"token": issued.token, "identity": issued.identity, "ttl": issued.ttl})
    response["Cache-Control"] = "no-store"
    return response


def _audio_response(
    request: HttpRequest, *, url: str, duration_seconds: int | None, name: str
) -> HttpResponse:
    try:
        audio = get_gateway().fetch_recording(
            url=url,
            duration_seconds=duration_seconds,
            range_header=request.headers.get("Range", ""),
        )
    except recordings.RecordingFetchError as exc:
        return HttpResponse(
            _("The recording could not be fetched from Twilio (%(reason)s). Try again shortly.")
            % {"reason": exc},
            status=502,
            content_type="text/plain; charset=utf-8",
        )
    response = StreamingHttpResponse(
        audio.chunks, status=audio.status, content_type=audio.content_type
    )
    if audio.length is not None:
        response["Content-Length"] = str(audio.length)
    if audio.content_range:
        response["Content-Range"] = audio.content_range
    if audio.accept_ranges:
        response["Accept-Ranges"] = "bytes"
    extension = "wav" if audio.content_type.endswith("wav") else "mp3"
    response["Content-Disposition"] = f'inline; filename="{name}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def call_recording_audio(request: HttpRequest, call_id: int) -> HttpResponse:
    call = recordings.call_recording_get_for(request.user, call_id)
    return _audio_response(
        request,
        url=call.recording_url,
        duration_seconds=call.recording_duration_seconds,
        name=f"call-{call.pk}",
    )


@login_required
@require_GET
def voicemail_audio(request: HttpRequest, voicemail_id: int) -> HttpResponse:
    voicemail = recordings.voicemail_get_for(request.user, voicemail_id)
    return _audio_response(
        request,
        url=voicemail.recording_url,
        duration_seconds=voicemail.duration_seconds,
        name=f"voicemail-{voicemail.pk}",
    )


@login_required
@require_GET
def voicemail_list(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("show") == "all"
    voicemails = voicemails_visible_to(request.user).select_related(
        "department", "customer", "handled_by"
    )
    if not show_all:
        voicemails = voicemails.filter(handled_at__isnull=True)
    return render(
        request,
        "telephony/voicemails.html",
        {
            "voicemails": voicemails.order_by("-received_at")[:VOICEMAIL_PAGE_SIZE],
            "show_all": show_all,
        },
    )


@login_required
@require_POST
def voicemail_handled(request: HttpRequest, voicemail_id: int) -> HttpResponse:
    voicemail = voicemail_mark_handled(person=request.user, voicemail_id=voicemail_id)
    if not request.htmx:
        return redirect("telephony:voicemails")
    voicemail = (
        voicemails_visible_to(request.user)
        .select_related("department", "customer", "handled_by")
        .get(pk=voicemail.pk)
    )
    return render(request, "telephony/voicemails.html#row", {"v": voicemail})


@login_required
@require_POST
def voicemail_reveal(request: HttpRequest, voicemail_id: int) -> HttpResponse:
    """The caller's whole number for a call back (콜백); the view is audited."""
    from django.core.exceptions import ValidationError
    from django.utils.html import format_html

    try:
        number = voicemail_caller_reveal(viewer=request.user, voicemail_id=voicemail_id)
    except ValidationError as exc:
        return HttpResponse(
            " ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8"
        )
    return HttpResponse(format_html('<span class="mono revealed">{}</span>', phone(number)))


@login_required
@require_GET
def ivr_tree(request: HttpRequest) -> HttpResponse:
    """Read-only: every voice menu of the center, its options, hours and holidays."""
    require(request.user, "see_voice_menus")
    center_id = request.user.center_id
    roots = [ivr_menus.menu_tree(menu) for menu in ivr_menus.root_menus_for(center_id)]
    holidays = Holiday.objects.all()
    if center_id:
        holidays = holidays.filter(center_id=center_id)
    today = timezone.localdate()
    return render(
        request,
        "telephony/ivr_tree.html",
        {"roots": roots, "holidays": holidays.filter(date__gte=today).order_by("date")[:40]},
    )
