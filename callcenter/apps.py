"""Sign-in apps from outside (django-axes, django-otp) under Korean names in the admin.

They ship no Korean: their app names are plain strings (here they get translatable ones),
axes marks its own field names (callcenter/admin_words.py keeps them in our catalog), and
django-otp's device admins show untranslatable field names, so they are taken out of the
admin: a person's authenticator and recovery codes are removed with the person list's
action ("Remove two-factor devices"), and everyone manages their own on
/account/two-factor/."""

from axes.apps import AppConfig as AxesAppConfig
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.apps import DefaultConfig as StaticConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpConfig


class AxesConfig(AxesAppConfig):
    verbose_name = _("Sign-in lockouts")


class OtpTotpConfig(TotpConfig):
    verbose_name = _("Two-factor: authenticator apps")

    def ready(self) -> None:
        super().ready()
        from django_otp.plugins.otp_totp.models import TOTPDevice

        # The admin (first in INSTALLED_APPS) has registered every admin module by now.
        if admin.site.is_registered(TOTPDevice):
            admin.site.unregister(TOTPDevice)


class OtpStaticConfig(StaticConfig):
    verbose_name = _("Two-factor: recovery codes")

    def ready(self) -> None:
        super().ready()
        from django_otp.plugins.otp_static.models import StaticDevice

        if admin.site.is_registered(StaticDevice):
            admin.site.unregister(StaticDevice)
