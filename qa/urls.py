from django.urls import path

from qa import views

app_name = "qa"
urlpatterns = [
    path("", views.home, name="home"),
    path("recordings/", views.recordings, name="recordings"),
    path("sampling/", views.sampling, name="sampling"),
    path("sampling/<int:run_id>/", views.sampling_progress, name="sampling-progress"),
    path("evaluations/<int:evaluation_id>/", views.evaluation_detail, name="evaluation"),
    path("evaluations/<int:evaluation_id>/total/", views.evaluation_total, name="evaluation-total"),
    path("evaluations/<int:evaluation_id>/comments/", views.comment_add, name="comment-add"),
    path(
        "evaluations/<int:evaluation_id>/acknowledge/",
        views.evaluation_acknowledge,
        name="acknowledge",
    ),
    path("evaluations/<int:evaluation_id>/dispute/", views.evaluation_dispute, name="dispute"),
    path("evaluations/<int:evaluation_id>/coaching/", views.coaching_new, name="coaching-new"),
    path("disputes/<int:dispute_id>/resolve/", views.dispute_resolve, name="dispute-resolve"),
    path("coaching/", views.coaching_list, name="coaching"),
    path("coaching/<int:plan_id>/", views.coaching_plan, name="coaching-plan"),
    path("coaching/tasks/<int:task_id>/", views.coaching_task_toggle, name="coaching-task"),
    path("calibration/", views.calibration_list, name="calibrations"),
    path("calibration/new/<int:call_id>/", views.calibration_new, name="calibration-new"),
    path("calibration/<int:session_id>/", views.calibration_detail, name="calibration"),
    path("scorecards/", views.scorecard_list, name="scorecards"),
    path("scorecards/new/", views.scorecard_new, name="scorecard-new"),
    path("scorecards/<int:scorecard_id>/", views.scorecard_detail, name="scorecard"),
    path("scorecards/<int:scorecard_id>/edit/", views.scorecard_edit, name="scorecard-edit"),
    path("reports/", views.reports, name="reports"),
]
