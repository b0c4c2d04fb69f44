from django.contrib import admin

from kpi.models import (
    DailyStat,
    FillState,
    IncentiveBand,
    IntervalStat,
    PerformanceMonth,
    PerformanceSheet,
    PerformanceWeight,
)

admin.site.register(
    IntervalStat,
    list_display=["interval_start", "scope_kind", "scope_id", "offered", "handled"],
    list_filter=["scope_kind"],
)
admin.site.register(
    DailyStat,
    list_display=["day", "scope_kind", "scope_id", "offered", "handled"],
    list_filter=["scope_kind"],
)
admin.site.register(FillState, list_display=["name", "watermark", "last_run_at"])
admin.site.register(PerformanceWeight, list_display=["component", "department", "weight"])
admin.site.register(IncentiveBand, list_display=["name", "min_score", "description"])
admin.site.register(PerformanceMonth, list_display=["month", "closed_at", "closed_by"])
admin.site.register(
    PerformanceSheet,
    list_display=["month", "agent", "score", "band", "rank_in_team", "rank_in_department"],
    readonly_fields=[
        "components",
        "score",
        "rank_in_team",
        "rank_in_department",
        "band",
        "computed_at",
    ],
)
