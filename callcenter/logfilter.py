"""Log filters: no personal data and no search terms in the logs (DOMAIN.md, "Personal
data"). The code logs ids, not numbers or message bodies; these filters are the safety
net for what slips through (an exception message that quotes a number, a third-party
library's log line), installed on every handler in LOGGING and on the Celery worker's."""

from __future__ import annotations

import logging
import re

from callcenter.pii import pii_redact

# What a log line may leak: numbers that identify a person. E-mail addresses and account
# numbers are left to the code (too many log lines hold ids that look like accounts).
LOGGED_KINDS = ("rrn", "card", "phone")
# A phone number has at least 7 digits, so shorter messages are not scanned at all.
MIN_DIGITS = 7
QUERY_STRING = re.compile(r"\?[^\s\"]*")


def _may_hold_a_number(text: str) -> bool:
    return sum(ch.isdigit() for ch in text) >= MIN_DIGITS


def _masked(text: str) -> str:
    return pii_redact(text, kinds=LOGGED_KINDS) if _may_hold_a_number(text) else text


class PiiLogFilter(logging.Filter):
    """Masks resident registration, card and phone numbers in a record's message and its
    traceback. The message is formatted here (args folded in), so every handler after this
    one sees the masked text too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logging's to report
            return True
        masked = _masked(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _masked(record.exc_text)
        if record.stack_info:
            record.stack_info = _masked(record.stack_info)
        return True


class NoQueryStringFilter(logging.Filter):
    """Drops the query string from the development server's request lines
    ("GET /tickets/?q=… HTTP/1.1" → "GET /tickets/ HTTP/1.1"): searches hold names and
    numbers."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001
            return True
        stripped = QUERY_STRING.sub("", message)
        if stripped != message:
            record.msg, record.args = stripped, None
        return True
