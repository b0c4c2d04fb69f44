from django.urls import path

from kpi import queue_strip, views, wallboard

app_name = "kpi"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("calls/", views.calls_drilldown, name="calls"),
    path("evaluations/", views.sheet_list, name="sheets"),
    path("evaluations/compute/", views.sheets_compute, name="sheets-compute"),
    path("evaluations/close/", views.month_close, name="month-close"),
    path("evaluations/reopen/", views.month_reopen, name="month-reopen"),
    path("evaluations/<int:sheet_id>/", views.sheet_detail, name="sheet"),
]
urlpatterns += [
    path("wallboard/", wallboard.wallboard, name="wallboard"),
    path("wallboard/tiles/", wallboard.wallboard_tiles, name="wallboard-tiles"),
    path("queues/mine/", queue_strip.queue_strip, name="queue-strip"),
]
