"""The REST API's URL table; each app's api.py holds its views (same scoping as the pages)."""

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from agents import api as agents_api
from kpi import api as kpi_api
from qa import api as qa_api
from telephony import api as telephony_api
from tickets import api as tickets_api


@csrf_exempt  # answers 404 to any method; there is nothing to forge
def api_not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any other address under /api/ (a path id that is not a number, say) is a JSON 404
    like the API's own, not the site's HTML page."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


api_urlpatterns = [
    path("people/", agents_api.PeopleListApi.as_view(), name="api-people"),
    path("calls/", telephony_api.CallListApi.as_view(), name="api-calls"),
    path("tickets/", tickets_api.TicketListApi.as_view(), name="api-tickets"),
    path("tickets/<int:ticket_id>/", tickets_api.TicketDetailApi.as_view(), name="api-ticket"),
    path("tickets/<int:ticket_id>/notes/", tickets_api.TicketNotesApi.as_view(), name="api-notes"),
    path("customers/", tickets_api.CustomerListApi.as_view(), name="api-customers"),
    path(
        "customers/<int:customer_id>/",
        tickets_api.CustomerDetailApi.as_view(),
        name="api-customer",
    ),
    path("kpi/today/", kpi_api.KpiTodayApi.as_view(), name="api-kpi-today"),
    path("qa/scorecards/", qa_api.ScorecardListApi.as_view(), name="api-qa-scorecards"),
    path(
        "qa/scorecards/<int:scorecard_id>/",
        qa_api.ScorecardDetailApi.as_view(),
        name="api-qa-scorecard",
    ),
    path("qa/evaluations/", qa_api.EvaluationListApi.as_view(), name="api-qa-evaluations"),
    path(
        "qa/evaluations/<int:evaluation_id>/",
        qa_api.EvaluationDetailApi.as_view(),
        name="api-qa-evaluation",
    ),
    path("qa/disputes/", qa_api.DisputeListApi.as_view(), name="api-qa-disputes"),
    path(
        "qa/disputes/<int:dispute_id>/resolve/",
        qa_api.DisputeResolveApi.as_view(),
        name="api-qa-dispute-resolve",
    ),
    # Last: every other address except the schema (callcenter/urls.py routes /api/schema/
    # after this table).
    re_path(r"^(?!schema/$)", api_not_found),
]
