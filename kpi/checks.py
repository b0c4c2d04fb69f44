"""Start-up check of the KPI settings: a misspelt service-level variant would otherwise
fail every dashboard with a 500."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from kpi.formulas import SERVICE_LEVEL_VARIANTS


@register()
def check_service_level_variant(app_configs=None, **kwargs) -> list[Error]:
    variant = settings.KPI_SERVICE_LEVEL_VARIANT
    if variant in SERVICE_LEVEL_VARIANTS:
        return []
    return [
        Error(
            f"KPI_SERVICE_LEVEL_VARIANT={variant!r} is not a service-level variant.",
            hint="One of: " + ", ".join(SERVICE_LEVEL_VARIANTS),
            id="kpi.E001",
        )
    ]
