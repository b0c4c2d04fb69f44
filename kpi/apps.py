from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpiConfig(AppConfig):
    name = "kpi"
    verbose_name = _("KPI and evaluations")

    def ready(self) -> None:
        from kpi import checks  # noqa: F401 - registers the service-level variant check
