"""Text messages Sangdam sends to customers (one-time codes for the case-status page).

In simulated mode nothing leaves the machine: the message is stored as an outbound
`SmsMessage` (admin → Text messages, the code masked) and as a `SimulatorMessage` (admin →
Simulator messages: the customer's phone, where the demo customer reads the code). The log
line names the message, never its text. In twilio mode it goes through Twilio's Messages API from the
department's number and is stored the same way.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from callcenter.pii import pii_redact
from telephony.gateway import get_gateway
from telephony.models import SimulatorMessage, SmsMessage
from tickets.services.status_checks import status_check_code_issue

logger = logging.getLogger("telephony.simulator")


def sms_send(*, to: str, body: str, department, customer=None, stored_body: str | None = None):
    """Send `body`; the stored copy (admin, the customer's timeline) is `stored_body` when
    given, so a one-time code is delivered but never kept readable."""
    from_number = department.phone_number if department else ""
    if settings.TELEPHONY_MODE == "twilio":
        sid = get_gateway().send_sms(to=to, from_=from_number, body=body)
    else:
        sid = "SM" + uuid.uuid4().hex
        SimulatorMessage.objects.create(
            direction="rest",
            call_sid=sid,
            action="sms",
            data={"to": to, "body": body},
            handled=True,
        )
        # The text may hold a one-time code: the log says where to read it, never what it is.
        logger.info(
            "simulated SMS %s to %s (%d characters; the text is in admin → Simulator messages)",
            sid,
            pii_redact(to, kinds=("phone",)),
            len(body),
        )
    return SmsMessage.objects.create(
        sid=sid,
        direction="outbound",
        from_number=from_number,
        to_number=to,
        body=body if stored_body is None else stored_body,
        customer=customer,
        department=department,
        at=timezone.now(),
    )


def status_check_code_send(*, check_id: int) -> bool:
    """Make a fresh one-time code for a case-status check (tickets) and, if the check matched
    a case, text it to the phone on file. The stored SMS shows the code masked. Returns
    whether an SMS went out; a provider error propagates (the task retries)."""
    issued = status_check_code_issue(check_id=check_id)
    if issued is None:
        return False
    check, code = issued
    text = _("[Sangdam] Your code for case %(number)s: %(code)s (valid 10 minutes)")
    number = check.ticket.number
    sms_send(
        to=check.phone,
        body=text % {"number": number, "code": code},
        stored_body=text % {"number": number, "code": "******"},
        department=check.ticket.department,
        customer=check.ticket.customer,
    )
    return True
