from django.urls import path

from telephony import views

app_name = "telephony"
urlpatterns = [
    # Twilio webhooks: stable URLs, configured in the Twilio console.
    path("voice/incoming/", views.voice_incoming, name="voice-incoming"),
    path("voice/queue/wait/", views.voice_queue_wait, name="voice-queue-wait"),
    path("voice/queue/result/", views.voice_queue_result, name="voice-queue-result"),
    path("voice/connect/", views.voice_connect, name="voice-connect"),
    path("voice/status/", views.voice_status, name="voice-status"),
    path("voice/recording/", views.voice_recording, name="voice-recording"),
    # Agent actions.
    path("offers/<int:offer_id>/accept/", views.offer_accept, name="offer-accept"),
    path("calls/<int:call_id>/hangup/", views.call_hangup, name="call-hangup"),
    path("calls/<int:call_id>/wrapup/", views.wrapup_submit, name="wrapup-submit"),
]
