"""The desk's pages and actions keep the paths they had under agents/, telephony/ and
tickets/ (bookmarks, the softphone and the tests use them); only their names are desk's."""

from django.urls import path

from desk.views import board, calls, desktop

app_name = "desk"
urlpatterns = [
    # The agent desktop.
    path("agents/desktop/", desktop.desktop, name="desktop"),
    path("agents/desktop/state/", desktop.state_set, name="state-set"),
    path(
        "agents/desktop/notice/dismiss/",
        desktop.desk_notice_dismiss,
        name="desk-notice-dismiss",
    ),
    path("agents/desktop/offer-alert/", desktop.offer_alert, name="offer-alert"),
    # The 실장's board and the requests to them.
    path("agents/team/", board.team_board, name="team-board"),
    path("agents/requests/", board.requests_page, name="requests"),
    # A person's page: their state log, skills and latest calls (the calls are telephony's).
    path("agents/people/<int:person_id>/", board.person_detail, name="person-detail"),
    path("agents/requests/<int:request_id>/decide/", board.request_decide, name="request-decide"),
    # Call actions.
    path("telephony/offers/<int:offer_id>/accept/", calls.offer_accept, name="offer-accept"),
    path("telephony/calls/<int:call_id>/hangup/", calls.call_hangup, name="call-hangup"),
    path("telephony/calls/<int:call_id>/notepad/", calls.call_notepad, name="call-notepad"),
    path("telephony/calls/<int:call_id>/wrapup/", calls.wrapup_submit, name="wrapup-submit"),
    path("telephony/customers/<int:customer_id>/dial/", calls.call_dial_out, name="dial-out"),
    path("tickets/calls/<int:call_id>/customer/", calls.call_customer_link, name="call-customer"),
    # Bridging: hold, transfers, escalation, listening.
    path("telephony/calls/<int:call_id>/hold/", calls.call_hold, name="call-hold"),
    path("telephony/calls/<int:call_id>/resume/", calls.call_resume, name="call-resume"),
    path("telephony/calls/<int:call_id>/transfer/", calls.call_transfer, name="call-transfer"),
    path("telephony/calls/<int:call_id>/escalate/", calls.call_escalate, name="call-escalate"),
    path("telephony/desk/escalations-only/", calls.escalations_only, name="escalations-only"),
    path(
        "telephony/calls/<int:call_id>/transfer/complete/",
        calls.transfer_complete,
        name="transfer-complete",
    ),
    path(
        "telephony/calls/<int:call_id>/transfer/cancel/",
        calls.transfer_cancel,
        name="transfer-cancel",
    ),
    path("telephony/calls/<int:call_id>/monitor/", calls.call_monitor, name="call-monitor"),
]
