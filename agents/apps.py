from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = _("Organisation and agents")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from agents.signin import checks  # noqa: F401 - registers the sign-in checks
        from agents.signin.middleware import remember_nothing_owed

        user_logged_in.connect(remember_nothing_owed, dispatch_uid="signin-nothing-owed")
