"""The PII guard moved to `callcenter.pii` (floor 1), so that the log filter and every app
can use it; this name stays for code written against the old place."""

from callcenter.pii import Finding, normalise, pii_mask, pii_redact, pii_scan

__all__ = ["Finding", "normalise", "pii_mask", "pii_redact", "pii_scan"]
