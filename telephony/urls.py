from django.urls import path

from telephony import views
from telephony.views import surveys as survey_views

app_name = "telephony"
urlpatterns = [
    # Twilio webhooks: stable URLs, configured in the Twilio console.
    path("voice/incoming/", views.voice_incoming, name="voice-incoming"),
    path("voice/queue/wait/", views.voice_queue_wait, name="voice-queue-wait"),
    path("voice/queue/result/", views.voice_queue_result, name="voice-queue-result"),
    path("voice/connect/", views.voice_connect, name="voice-connect"),
    path("voice/status/", views.voice_status, name="voice-status"),
    path("voice/recording/", views.voice_recording, name="voice-recording"),
    path("voice/conference/", views.voice_conference, name="voice-conference"),
    path("voice/dial/result/", views.voice_dial_result, name="voice-dial-result"),
    path("voice/hold/", views.voice_hold, name="voice-hold"),
    path("voice/ivr/", views.voice_ivr, name="voice-ivr"),
    path("voice/voicemail/", views.voice_voicemail, name="voice-voicemail"),
    path("sms/incoming/", views.sms_incoming, name="sms-incoming"),
    path("voice/survey/", survey_views.voice_survey, name="voice-survey"),
    # The agent's call actions are the desk's (desk/urls.py), under the same paths.
    # Browser softphone and playback through Sangdam.
    path("token/", views.softphone_token, name="softphone-token"),
    path("calls/<int:call_id>/recording/", views.call_recording_audio, name="call-recording"),
    path("voicemails/<int:voicemail_id>/audio/", views.voicemail_audio, name="voicemail-audio"),
    # Voicemails and the voice menu.
    path("voicemails/", views.voicemail_list, name="voicemails"),
    path(
        "voicemails/<int:voicemail_id>/handled/",
        views.voicemail_handled,
        name="voicemail-handled",
    ),
    path(
        "voicemails/<int:voicemail_id>/reveal/",
        views.voicemail_reveal,
        name="voicemail-reveal",
    ),
    path("ivr/", views.ivr_tree, name="ivr-tree"),
]
