"""What stays in place of removed text. Stored in the center's language (LANGUAGE_CODE), so
history pages read naturally; the row itself stays so counts, KPI and QA do not move."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

# Call.recording_status / Voicemail.recording_status of a recording whose media is deleted.
RECORDING_DELETED = "deleted"


def expired_marker() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("[removed after the retention period]")


def erased_marker() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("[erased at the customer's request]")
