"""Celery entry points for telephony: thin, by id, owning retries."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import caches
from django.utils import translation
from kombu.exceptions import OperationalError

from callcenter.dispatch import dispatch_allowed
from callcenter.redis_health import REDIS_ERRORS, redis_down, redis_failed
from telephony import sms
from telephony.services import customers, routing, surveys
from telephony.services.calls import call_bridge_failed

logger = logging.getLogger(__name__)


# Route requests are coalesced: a burst of calls and agents becoming ready asks for one
# routing run, not one task each (a Celery publish costs more than the whole rest of the
# incoming-call webhook). The marker says "a run is requested and has not started yet"; the
# run clears it before it reads the queues, so anything committed before a skipped request
# is seen by that run. It expires, so a run lost with its worker delays nothing beyond the
# periodic sweep.
ROUTE_REQUESTED = "acd:route-requested"
ROUTE_REQUEST_TTL = 5


@shared_task(ignore_result=True)
def acd_route_task(queue_id: int | None = None) -> int:
    _route_request_clear()
    return len(routing.acd_route(queue_id=queue_id))


def _route_request_clear() -> None:
    if settings.REDIS_URL and redis_down():
        return  # the marker expires by itself
    try:
        caches["acd"].delete(ROUTE_REQUESTED)
    except REDIS_ERRORS as exc:
        redis_failed(exc, "route-request marker")
    except Exception:
        logger.warning("route-request marker store unavailable", exc_info=True)


def acd_route_soon(queue_id: int | None = None) -> None:
    """Ask a worker to route every queue now, unless a routing run is already requested
    and not started (`queue_id` is accepted for the callers' clarity; the run routes all
    queues, which costs one indexed query per idle queue). If the broker or the marker store
    is down the call is not lost: it is a row in the database, and the periodic sweep routes
    it within seconds. With Redis down (callcenter.redis_health) nothing is asked of it: one
    request pays its short timeout, the next ones go straight to the sweep."""
    if not dispatch_allowed():
        return
    if settings.REDIS_URL and redis_down():
        return  # the periodic sweep routes the call
    try:
        if not caches["acd"].add(ROUTE_REQUESTED, 1, timeout=ROUTE_REQUEST_TTL):
            return
    except REDIS_ERRORS as exc:
        redis_failed(exc, "route-request marker")
        return  # the broker is the same Redis
    except Exception:
        logger.warning("route-request marker store unavailable; asking anyway", exc_info=True)
    try:
        acd_route_task.delay()
    except OperationalError:
        logger.warning("broker unavailable; routing falls back to the periodic sweep")
        _route_request_clear()


@shared_task(ignore_result=True)
def surveys_sms_sweep() -> int:
    """Text the post-call survey to every caller who is due one (CELERY_BEAT_SCHEDULE)."""
    return surveys.survey_sms_send_due()


@shared_task(ignore_result=True)
def merges_follow_sweep() -> int:
    """Calls, texts and voicemails still on a merged customer or ticket (CELERY_BEAT_SCHEDULE)."""
    return customers.merges_follow_sweep()


@shared_task(ignore_result=True)
def acd_sweep() -> dict[str, int]:
    return routing.acd_sweep()


@shared_task(
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=5,
)
def simulator_rest(*, call_sid: str, action: str, url: str, data: dict | None = None) -> None:
    from telephony.simulator import Simulator

    Simulator.default().handle_rest(call_sid=call_sid, action=action, url=url, data=data)


@shared_task(
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=5,
)
def conference_add_agent(*, offer_id: int) -> None:
    from telephony.gateway import get_gateway

    get_gateway().conference_add_agent(offer_id=offer_id)


def conference_add_agent_soon(*, offer_id: int) -> None:
    """The connect webhook must answer fast: the agent is rung into the conference by a
    worker, not inside Twilio's 15-second request."""
    if not dispatch_allowed():
        return
    try:
        conference_add_agent.delay(offer_id=offer_id)
    except OperationalError:
        logger.exception("broker unavailable; adding the agent of offer %s inline", offer_id)
        from telephony.gateway import get_gateway

        get_gateway().conference_add_agent(offer_id=offer_id)


def connect_to_agent_now(*, call_sid: str, offer_id: int) -> None:
    """After an accept commits: ask the provider to bridge the caller to the agent. A
    failure never reaches the agent's request: the retrying task takes over, and if even
    the broker is down the call goes straight back to the queue."""
    from telephony.gateway import get_gateway

    try:
        get_gateway().connect_to_agent(call_sid=call_sid, offer_id=offer_id)
    except Exception:
        logger.warning("bridging offer %s failed; retrying from a worker", offer_id, exc_info=True)
        try:
            connect_to_agent_task.delay(call_sid=call_sid, offer_id=offer_id)
        except OperationalError:
            call_bridge_failed(offer_id=offer_id)


@shared_task(bind=True, ignore_result=True, max_retries=3)
def connect_to_agent_task(self, *, call_sid: str, offer_id: int) -> None:
    from telephony.gateway import get_gateway

    try:
        get_gateway().connect_to_agent(call_sid=call_sid, offer_id=offer_id)
    except Exception as exc:
        if self.request.retries < self.max_retries:
            # Seconds, not minutes: the caller is waiting; the deadline stays in the rows.
            raise self.retry(exc=exc, countdown=2**self.request.retries) from exc
        logger.error("bridging offer %s failed for good; the call goes back to the queue", offer_id)
        call_bridge_failed(offer_id=offer_id)


STATUS_SMS_RETRIES = 3


@shared_task(bind=True, ignore_result=True, max_retries=STATUS_SMS_RETRIES)
def status_check_sms(self, check_id: int, language: str | None = None) -> None:
    """The case-status page's one-time code, after the check committed. A provider error
    is retried with a fresh code (5 s, 10 s, 20 s), then logged: the customer starts again."""
    try:
        with translation.override(language):
            sms.status_check_code_send(check_id=check_id)
    except Exception as exc:
        if self.request.retries < STATUS_SMS_RETRIES:
            logger.warning("status-page SMS for check %s failed, retrying: %s", check_id, exc)
            raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc
        logger.exception("status-page SMS for check %s failed; giving up", check_id)
