from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from agents.views import home
from callcenter.api import api_urlpatterns
from tickets import views as ticket_views

# The admin is Sangdam's, not "Django administration".
admin.site.site_header = _("Sangdam administration")
admin.site.site_title = _("Sangdam administration")

urlpatterns = [
    path("", home, name="home"),
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (admin, API docs).
    path("favicon.ico", RedirectView.as_view(url=static("favicon.ico"), permanent=True)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Second factor, enrolment, password change and admin-issued reset links.
    path("account/", include("agents.signin.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The desk's paths sit under agents/, telephony/ and tickets/ (desk/urls.py).
    path("", include("desk.urls")),
    path("agents/", include("agents.urls")),
    path("telephony/", include("telephony.urls")),
    path("tickets/", include("tickets.urls")),
    path("qa/", include("qa.urls")),
    path("kpi/", include("kpi.urls")),
    path("api/", include(api_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("admin/", admin.site.urls),
    # The public case-status page (no login): case number + phone → SMS code → status.
    path("status/", ticket_views.status_lookup, name="case-status"),
    path("status/code/", ticket_views.status_verify, name="case-status-verify"),
    path("status/case/", ticket_views.status_show, name="case-status-show"),
]
