"""Sign-in pages after the password: the second-factor check, enrolment (QR code and
recovery codes, shown once), password change and the reset link an admin issued."""

from __future__ import annotations

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django_otp import login as otp_login

from agents.signin import services
from agents.signin.forms import OTPTokenForm
from agents.signin.twofactor import otp_required_for, second_factor_step


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _qr_svg(data: str) -> str:
    """The otpauth:// URL as an inline SVG (no script, no image request: fits the CSP)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    return svg[svg.index("<svg") :]


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified():
        return redirect(_next_url(request))
    if second_factor_step(request.user) != "verify":  # no device yet: nothing to check
        return redirect("signin:two-factor-setup")
    form = OTPTokenForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if services.second_factor_throttled(person=request.user):
            error = _("Too many wrong codes. Wait a little and try again.")
        else:
            device = services.second_factor_check(
                person=request.user, token=form.cleaned_data["otp_token"]
            )
            if device is not None:
                otp_login(request, device)
                return redirect(_next_url(request))
            error = _("That code is not valid. Try the current code or a recovery code.")
    status = 400 if error else 200
    return render(
        request,
        "agents/signin/verify.html",
        {"form": form, "error": error, "next": _next_url(request)},
        status=status,
    )


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrolment. Someone already using a device must have passed it in this session to
    replace it or to get new recovery codes."""
    person = request.user
    enrolled = person.is_verified()
    if not enrolled and second_factor_step(person) == "verify":
        return redirect("signin:two-factor-verify")
    if request.method == "POST" and request.POST.get("action") == "recovery" and enrolled:
        codes = services.recovery_codes_issue(person=person)
        return render(request, "agents/signin/recovery_codes.html", {"codes": codes})
    form = OTPTokenForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = services.totp_device_confirm(
            person=person,
            token=form.cleaned_data["otp_token"],
            keep_session_key=request.session.session_key,
        )
        if result is not None:
            device, codes = result
            otp_login(request, device)
            return render(
                request,
                "agents/signin/recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
        error = _("That code is not valid. Check the time on your phone and try again.")
    device = services.totp_device_pending(person=person)
    context = {
        "form": form,
        "error": error,
        "enrolled": enrolled,
        "required": otp_required_for(person),
        "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - our own SVG
        "secret": _base32(device.bin_key),
        "next": _next_url(request),
    }
    return render(request, "agents/signin/setup.html", context, status=400 if error else 200)


def _base32(key: bytes) -> str:
    """The secret for typing into an app by hand, in groups of four."""
    raw = b32encode(key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("signin:password-change-done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("signin:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
