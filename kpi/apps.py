from django.apps import AppConfig


class KpiConfig(AppConfig):
    name = "kpi"

    def ready(self) -> None:
        from kpi import checks  # noqa: F401 - registers the service-level variant check
