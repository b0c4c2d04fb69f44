from django.urls import path

from kpi import views, wallboard

app_name = "kpi"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("calls/", views.calls_drilldown, name="calls"),
]
urlpatterns += [
    path("wallboard/", wallboard.wallboard, name="wallboard"),
    path("wallboard/tiles/", wallboard.wallboard_tiles, name="wallboard-tiles"),
]
