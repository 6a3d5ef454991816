"""Webhook endpoints (snippets) and their deliveries: one row per call, unique by its key,
so a retried rule or task never calls twice; the rows are the delivery log."""

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .addresses import RefusedAddress, check_url


def new_secret():
    return secrets.token_urlsafe(32)


class Webhook(models.Model):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500,
                          help_text=_("Receives a signed JSON POST (see the README)."))
    events = models.JSONField(
        _("events"), default=list, blank=True,
        help_text=_("Called for every event of these types (automation rules can call it "
                    "too)."))
    secret = models.CharField(
        _("signing secret"), max_length=100, default=new_secret,
        help_text=_("The receiver checks the X-Leadscore-Signature header with it."))
    is_active = models.BooleanField(
        _("active"), default=True,
        help_text=_("Switched off by itself after repeated failures; its calls wait."))
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from ..events import event_types

        unknown = [name for name in self.events or () if name not in event_types]
        if not isinstance(self.events, list) or unknown:
            raise ValidationError({"events": _("Unknown event types: %(types)s") % {
                "types": ", ".join(map(str, unknown or [self.events]))}})
        try:
            check_url(self.url, resolve=False)
        except RefusedAddress as refused:
            raise ValidationError({"url": str(refused)}) from None

    def save(self, *args, **kwargs):
        if self.is_active:  # switched on again (by an editor): a fresh start
            self.consecutive_failures, self.disabled_reason = 0, ""
        super().save(*args, **kwargs)


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")


class WebhookDelivery(models.Model):
    webhook = models.ForeignKey(Webhook, verbose_name=_("webhook"), on_delete=models.CASCADE,
                                related_name="deliveries")
    key = models.CharField(max_length=200, unique=True)
    event = models.CharField(_("event"), max_length=50)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveIntegerField(_("response"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["next_attempt_at"], name="leadscore_hook_due",
                                condition=Q(status__in=["queued", "sending"]))]

    def __str__(self):
        return f"{self.event} → {self.webhook}"
