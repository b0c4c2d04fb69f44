from django.urls import path

from tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("<int:ticket_id>/", views.ticket_detail, name="detail"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer"),
]
