from django.urls import path

from agents import views
from agents.targets import views as target_views

app_name = "agents"
# The desktop, the team board and the requests inbox are the desk's (desk/urls.py), under
# the same /agents/ paths.
urlpatterns = [
    path("team/schedule/", views.team_schedule, name="team-schedule"),
    path("org/", views.org_chart, name="org-chart"),
    path("targets/", target_views.targets_page, name="targets"),
    path("people/", views.roster, name="roster"),
    path("people/add/", views.person_add, name="person-add"),
    path("people/<int:person_id>/edit/", views.person_edit, name="person-edit"),
    path(
        "people/<int:person_id>/sign-in-link/",
        views.person_signin_link,
        name="person-signin-link",
    ),
]
