from django.urls import path

from qa.views import calibration, coaching, evaluations, pages, reports, sampling, scorecards

app_name = "qa"
urlpatterns = [
    path("", pages.home, name="home"),
    path("recordings/", pages.recordings, name="recordings"),
    path("sampling/", sampling.sampling, name="sampling"),
    path("sampling/<int:run_id>/", sampling.sampling_progress, name="sampling-progress"),
    path("evaluations/<int:evaluation_id>/", evaluations.evaluation_detail, name="evaluation"),
    path(
        "evaluations/<int:evaluation_id>/total/",
        evaluations.evaluation_total,
        name="evaluation-total",
    ),
    path("evaluations/<int:evaluation_id>/comments/", evaluations.comment_add, name="comment-add"),
    path(
        "evaluations/<int:evaluation_id>/acknowledge/",
        evaluations.evaluation_acknowledge,
        name="acknowledge",
    ),
    path(
        "evaluations/<int:evaluation_id>/dispute/", evaluations.evaluation_dispute, name="dispute"
    ),
    path("evaluations/<int:evaluation_id>/coaching/", coaching.coaching_new, name="coaching-new"),
    path("disputes/<int:dispute_id>/resolve/", evaluations.dispute_resolve, name="dispute-resolve"),
    path("coaching/", coaching.coaching_list, name="coaching"),
    path("coaching/<int:plan_id>/", coaching.coaching_plan, name="coaching-plan"),
    path("coaching/tasks/<int:task_id>/", coaching.coaching_task_toggle, name="coaching-task"),
    path("calibration/", calibration.calibration_list, name="calibrations"),
    path("calibration/new/<int:call_id>/", calibration.calibration_new, name="calibration-new"),
    path("calibration/<int:session_id>/", calibration.calibration_detail, name="calibration"),
    path("scorecards/", scorecards.scorecard_list, name="scorecards"),
    path("scorecards/new/", scorecards.scorecard_new, name="scorecard-new"),
    path("scorecards/<int:scorecard_id>/", scorecards.scorecard_detail, name="scorecard"),
    path("scorecards/<int:scorecard_id>/edit/", scorecards.scorecard_edit, name="scorecard-edit"),
    path("reports/", reports.reports, name="reports"),
]
