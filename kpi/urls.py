from django.urls import path

from kpi import queue_strip, views, wallboard

app_name = "kpi"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("calls/", views.calls_drilldown, name="calls"),
    path("evaluations/", views.evaluation_list, name="evaluations"),
    path("evaluations/compute/", views.evaluation_compute, name="evaluation-compute"),
    path("evaluations/close/", views.evaluation_close, name="evaluation-close"),
    path("evaluations/reopen/", views.evaluation_reopen, name="evaluation-reopen"),
    path("evaluations/<int:evaluation_id>/", views.evaluation_sheet, name="evaluation-sheet"),
]
urlpatterns += [
    path("wallboard/", wallboard.wallboard, name="wallboard"),
    path("wallboard/tiles/", wallboard.wallboard_tiles, name="wallboard-tiles"),
    path("queues/mine/", queue_strip.queue_strip, name="queue-strip"),
]
