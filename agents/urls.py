from django.urls import path

from agents import views
from agents.targets import views as target_views

app_name = "agents"
urlpatterns = [
    path("desktop/", views.desktop, name="desktop"),
    path("desktop/state/", views.state_set, name="state-set"),
    path("desktop/notice/dismiss/", views.desk_notice_dismiss, name="desk-notice-dismiss"),
    path("desktop/offer-alert/", views.offer_alert, name="offer-alert"),
    path("team/", views.team_board, name="team-board"),
    path("team/schedule/", views.team_schedule, name="team-schedule"),
    path("requests/", views.requests_page, name="requests"),
    path("requests/<int:request_id>/decide/", views.request_decide, name="request-decide"),
    path("org/", views.org_chart, name="org-chart"),
    path("targets/", target_views.targets_page, name="targets"),
    path("people/", views.roster, name="roster"),
    path("people/add/", views.person_add, name="person-add"),
    path("people/<int:person_id>/", views.person_detail, name="person-detail"),
    path("people/<int:person_id>/edit/", views.person_edit, name="person-edit"),
    path(
        "people/<int:person_id>/sign-in-link/",
        views.person_signin_link,
        name="person-signin-link",
    ),
]
