"""The audit of what data protection removed: one row per customer erasure and per retention
purge. Counts and ids only: the rows never hold the personal data they are about."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerErasure(models.Model):
    """A customer's personal data was erased on request (privacy.services.erasure)."""

    # The customer row stays (anonymised) so its calls and tickets keep counting; the id is
    # kept as a plain number so the audit outlives any later clean-up of that row.
    customer_id = models.BigIntegerField(_("customer id"), db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("erased by"),
    )
    at = models.DateTimeField(_("at"), db_index=True)
    # What was removed or anonymised, as counts per kind of row ({"calls": 3, ...}).
    removed = models.JSONField(_("removed"), default=dict, blank=True)

    class Meta:
        verbose_name = _("customer erasure")
        verbose_name_plural = _("customer erasures")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"erasure of customer {self.customer_id} at {self.at:%Y-%m-%d %H:%M}"


class RetentionPurge(models.Model):
    """One run of the retention purge (privacy.services.retention): the cut-off per kind and
    how many rows it emptied."""

    at = models.DateTimeField(_("at"), db_index=True)
    cutoffs = models.JSONField(_("cut-offs"), default=dict, blank=True)
    removed = models.JSONField(_("removed"), default=dict, blank=True)
    failed = models.JSONField(_("not removed (provider errors)"), default=dict, blank=True)

    class Meta:
        verbose_name = _("retention purge")
        verbose_name_plural = _("retention purges")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"retention purge at {self.at:%Y-%m-%d %H:%M}"
