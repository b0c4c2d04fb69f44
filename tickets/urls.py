from django.urls import path

from telephony.views import screen_pop
from tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("views/", views.saved_view_save, name="view-save"),
    path("views/<int:view_id>/delete/", views.saved_view_delete, name="view-delete"),
    path("<int:ticket_id>/", views.ticket_detail, name="detail"),
    path("<int:ticket_id>/update/", views.ticket_update, name="update"),
    path("<int:ticket_id>/notes/", views.ticket_note, name="note"),
    path("<int:ticket_id>/escalate/", views.ticket_escalate, name="escalate"),
    path("<int:ticket_id>/merge/", views.ticket_merge, name="merge"),
    path("<int:ticket_id>/followups/", views.ticket_followup, name="followup"),
    path("followups/<int:task_id>/done/", views.followup_done, name="followup-done"),
    path("customers/search/", views.customer_search, name="customer-search"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer"),
    path("customers/<int:customer_id>/timeline/", views.customer_timeline, name="timeline"),
    path("customers/<int:customer_id>/update/", views.customer_update, name="customer-update"),
    path("customers/<int:customer_id>/phones/", views.customer_phone_add, name="phone-add"),
    path("customers/<int:customer_id>/notes/", views.customer_note, name="customer-note"),
    path("customers/<int:customer_id>/merge/", views.customer_merge, name="customer-merge"),
    path("customers/<int:customer_id>/reveal/", views.customer_reveal, name="customer-reveal"),
    path(
        "customers/<int:customer_id>/tickets/",
        views.customer_ticket_create,
        name="customer-ticket-create",
    ),
    path("calls/<int:call_id>/customer/", screen_pop.call_customer_link, name="call-customer"),
]
