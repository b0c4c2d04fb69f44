from django.urls import path

from qa import views

app_name = "qa"
urlpatterns = [path("recordings/", views.recordings, name="recordings")]
