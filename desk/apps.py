from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    """The agent desktop and the 실장's board: the floor above every app they show."""

    name = "desk"
    verbose_name = _("Agent desk and team board")
