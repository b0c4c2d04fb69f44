"""Property: however Twilio's status callbacks are ordered or repeated, a finished call
ends finished, counted once, and never moves backwards."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telephony.models import Call, CallEvent, CallPhase
from telephony.services.calls import call_status_update
from telephony.services.receiving import call_receive
from telephony.simulator import new_call_sid
from tests.conftest import GENERAL_NUMBER

CALLBACKS = [("ringing", 0), ("in-progress", 1), ("completed", 2)]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.lists(st.sampled_from(CALLBACKS), min_size=1, max_size=8))
def test_any_order_of_callbacks_ends_consistently(org, order):
    call = call_receive(sid=new_call_sid(), from_number="+821012345678", to_number=GENERAL_NUMBER)
    for status, seq in order:
        call_status_update(sid=call.sid, status=status, sequence_number=seq)
    call = Call.objects.get(pk=call.pk)
    if ("completed", 2) in order:
        assert call.twilio_status == "completed"
        assert call.phase == CallPhase.ABANDONED
        assert CallEvent.objects.filter(call=call, kind="abandoned").count() == 1
    else:
        assert call.phase == CallPhase.QUEUED
        assert call.twilio_status == max(order, key=lambda c: c[1])[0]
    assert CallEvent.objects.filter(call=call, kind="status").count() == len(set(order))
