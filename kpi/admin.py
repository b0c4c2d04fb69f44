from django.contrib import admin

from kpi.models import FillState, IntervalStat

admin.site.register(
    IntervalStat,
    list_display=["interval_start", "scope_kind", "scope_id", "offered", "handled"],
    list_filter=["scope_kind"],
)
admin.site.register(FillState, list_display=["name", "watermark", "last_run_at"])
