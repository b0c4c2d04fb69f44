"""The REST API's URL table; each app's api.py holds its views (same scoping as the pages)."""

from django.urls import path

from agents import api as agents_api
from kpi import api as kpi_api
from telephony import api as telephony_api
from tickets import api as tickets_api

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
]
