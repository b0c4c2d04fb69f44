"""Access tokens for the browser softphone (Twilio Voice JS SDK).

Twilio dials an accepted call to `client:agent-<id>` (see `twiml.connect_response`); the
browser registers under that identity with a short-lived token signed by an API key.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from agents.models import Person
from agents.roles import can
from telephony.twiml import agent_identity

MAX_TOKEN_TTL_SECONDS = 3600  # the bound; Twilio itself would allow 24 h


class SoftphoneUnavailable(Exception):
    """No token can be issued: simulated mode, or Twilio credentials are not configured."""


@dataclass(frozen=True)
class SoftphoneToken:
    token: str
    identity: str
    ttl: int


def softphone_may_register(person: Person) -> bool:
    """Agents take calls; team leads take escalations and listen in."""
    return can(person, "take_calls")


def softphone_token_ttl() -> int:
    return max(60, min(int(settings.TWILIO_TOKEN_TTL), MAX_TOKEN_TTL_SECONDS))


def softphone_token_for(person: Person) -> SoftphoneToken:
    """A Voice access token for `person`. Precondition: `softphone_may_register(person)`.
    Raises SoftphoneUnavailable when the center does not run on Twilio."""
    if settings.TELEPHONY_MODE != "twilio":
        raise SoftphoneUnavailable(
            _("The softphone is simulated: no Twilio access token is needed.")
        )
    missing = [
        name
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_API_KEY_SID", "TWILIO_API_KEY_SECRET")
        if not getattr(settings, name, "")
    ]
    if missing:
        raise SoftphoneUnavailable(
            _("Twilio is not configured for the softphone (missing %(names)s).")
            % {"names": ", ".join(missing)}
        )
    identity = agent_identity(person.pk)
    ttl = softphone_token_ttl()
    token = AccessToken(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_API_KEY_SID,
        settings.TWILIO_API_KEY_SECRET,
        identity=identity,
        ttl=ttl,
    )
    token.add_grant(
        VoiceGrant(
            incoming_allow=True,
            outgoing_application_sid=settings.TWILIO_TWIML_APP_SID or None,
        )
    )
    return SoftphoneToken(token=token.to_jwt(), identity=identity, ttl=ttl)
