"""Emails (snippets edited in Wagtail) and the outbox: one row per message to send, unique
by its idempotency key, so a retried task or a second scheduler run never sends twice."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.fields import StreamField

from ..scoring.models import SlugFromNameMixin
from .blocks import EmailBodyBlock


class EmailKind(models.TextChoices):
    MARKETING = "marketing", _("Marketing (frequency cap, unsubscribe link)")
    TRANSACTIONAL = "transactional", _("Transactional (asked for: always sent)")


class Email(SlugFromNameMixin, models.Model):
    """One email, its subject and body with merge fields (``{{ first_name | there }}``)."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, blank=True,
                            help_text=_("Names the email in events, statistics and rules; "
                                        "filled from the name when left empty."))
    kind = models.CharField(_("kind"), max_length=20, choices=EmailKind.choices,
                            default=EmailKind.MARKETING)
    subject = models.CharField(_("subject"), max_length=200)
    preheader = models.CharField(_("preheader"), max_length=200, blank=True,
                                 help_text=_("The line mail clients show after the subject."))
    from_email = models.CharField(_("from"), max_length=254, blank=True,
                                  help_text=_("Empty: the site's DEFAULT_FROM_EMAIL."))
    body = StreamField(EmailBodyBlock(), verbose_name=_("body"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Not sent (unsubscribed or bounced)")


class OutboxMessage(models.Model):
    """One email to one contact. ``key`` names the occurrence (e.g. rule, contact and event):
    enqueueing the same key again is a no-op. A claimed row holds a lease: a worker that
    dies mid-batch leaves rows whose lease expires, and another worker sends them."""

    key = models.CharField(max_length=200, unique=True)
    email = models.ForeignKey(Email, on_delete=models.PROTECT, related_name="messages")
    contact = models.ForeignKey("wagtail_leadscore.Contact", on_delete=models.CASCADE,
                                related_name="outbox_messages")
    # Set for email about the contact to someone else (a sales alert); else the contact's.
    to_email = models.EmailField(_("to"), blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True,
                              help_text="What enqueued it, e.g. rule:3 or step:7.")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.QUEUED)
    send_after = models.DateTimeField(_("send after"), default=timezone.now)
    # Marketing emails: at most one per this many days per contact (None: the setting).
    frequency_cap_days = models.PositiveIntegerField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The destinations of the tracked links, in order, fixed when the message is built.
    links = models.JSONField(default=list, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        indexes = [
            models.Index(fields=["send_after"], name="leadscore_outbox_due",
                         condition=Q(status__in=["queued", "sending"])),
            models.Index(fields=["contact", "sent_at"], name="leadscore_outbox_sent",
                         condition=Q(status="sent")),
        ]

    def __str__(self):
        return f"{self.email} → {self.contact} ({self.get_status_display()})"
