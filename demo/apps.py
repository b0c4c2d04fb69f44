from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The top floor: the demo center's seed, its logins, and the simulated callers and
    colleagues of `make run`. It may use every app; no app uses it."""

    name = "demo"
    verbose_name = _("Demo")
