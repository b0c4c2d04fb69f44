"""Tickets' paths. A ticket's and a customer's own pages are the desk's views (they list
calls, a floor above tickets); they keep these paths and names."""

from django.urls import path

from desk.views import customers, tickets
from tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("views/", views.saved_view_save, name="view-save"),
    path("views/<int:view_id>/delete/", views.saved_view_delete, name="view-delete"),
    path("<int:ticket_id>/", tickets.ticket_detail, name="detail"),
    path("<int:ticket_id>/update/", tickets.ticket_update, name="update"),
    path("<int:ticket_id>/notes/", tickets.ticket_note, name="note"),
    path("<int:ticket_id>/escalate/", tickets.ticket_escalate, name="escalate"),
    path("<int:ticket_id>/merge/", tickets.ticket_merge, name="merge"),
    path("<int:ticket_id>/followups/", tickets.ticket_followup, name="followup"),
    path("followups/<int:task_id>/done/", views.followup_done, name="followup-done"),
    path("customers/search/", views.customer_search, name="customer-search"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer"),
    path("customers/<int:customer_id>/timeline/", customers.customer_timeline, name="timeline"),
    path("customers/<int:customer_id>/update/", customers.customer_update, name="customer-update"),
    path("customers/<int:customer_id>/phones/", customers.customer_phone_add, name="phone-add"),
    path("customers/<int:customer_id>/notes/", customers.customer_note, name="customer-note"),
    path("customers/<int:customer_id>/merge/", customers.customer_merge, name="customer-merge"),
    path("customers/<int:customer_id>/reveal/", customers.customer_reveal, name="customer-reveal"),
    path(
        "customers/<int:customer_id>/tickets/",
        customers.customer_ticket_create,
        name="customer-ticket-create",
    ),
]
