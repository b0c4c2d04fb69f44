"""What the QA pages share."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from qa.services.common import call_own_numbers


def _error_list(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def _own_numbers(evaluation) -> set[str]:
    """The caller's numbers: writing them down about this call is not a leak."""
    return call_own_numbers(evaluation.call)
