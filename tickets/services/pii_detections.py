"""The PII detection log: what the guard masked, per agent, for QA."""

from __future__ import annotations

from datetime import datetime

from tickets.models import (
    PiiDetection,
)


def pii_detections_record(
    *, agent, call, ticket, found: list[tuple[str, str, str]], at: datetime
) -> None:
    """Log what the PII guard masked (field, kind, masked form): the QA team counts these
    per agent. The identifier itself is never stored."""
    if not found:
        return
    PiiDetection.objects.bulk_create(
        [
            PiiDetection(
                agent=agent, call=call, ticket=ticket, field=field, kind=kind, masked=masked, at=at
            )
            for field, kind, masked in found
        ]
    )
