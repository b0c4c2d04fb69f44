from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        from agents.models import Department  # models load once the app registry is ready
        from telephony import checks  # noqa: F401 - registers the webhook-token deploy check
        from telephony.models import IvrMenu, Queue
        from telephony.selectors import number_cache_clear

        # Cache invalidation only (no business logic): the incoming-call path caches what
        # a dialled number leads to; a change to a number, menu or queue drops that copy.

        for model in (Department, IvrMenu, Queue):
            for signal in (post_save, post_delete):
                signal.connect(
                    number_cache_clear, sender=model, dispatch_uid=f"number-cache-{model.__name__}"
                )
