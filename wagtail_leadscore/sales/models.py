"""Who hears about new leads, and where a lead sent back goes: one generic setting."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

from ..mail.addresses import addresses, validate_addresses


@register_setting(icon="mail")
class SalesHandoff(BaseGenericSetting):
    alert_enabled = models.BooleanField(
        _("alert sales about every new lead"), default=True,
        help_text=_("An email to the lead's owner, else to the addresses below."))
    owner_group = models.ForeignKey(
        "auth.Group", verbose_name=_("give leads without an owner to this group, in turns"),
        null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    alert_to = models.TextField(
        _("team addresses"), blank=True, validators=[validate_addresses],
        help_text=_("For leads without an owner (or whose owner has no email address); "
                    "separated by commas."))
    send_back_sequence = models.ForeignKey(
        "wagtail_leadscore.Sequence", verbose_name=_("a lead sent back joins this sequence"),
        null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Offered (and ticked) on the send-back page."))

    panels = [FieldPanel("alert_enabled"), FieldPanel("owner_group"), FieldPanel("alert_to"),
              FieldPanel("send_back_sequence")]

    class Meta:
        verbose_name = _("sales handoff")

    def team_addresses(self):
        return addresses(self.alert_to)


class DigestFrequency(models.TextChoices):
    DAILY = "daily", _("daily (yesterday's news, sent after midnight)")
    WEEKLY = "weekly", _("weekly (last week's news, sent on Monday)")


class DigestRecipient(models.Model):
    """Who gets the emailed lead digest, and how often."""

    name = models.CharField(_("name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), unique=True)
    frequency = models.CharField(_("frequency"), max_length=10,
                                 choices=DigestFrequency.choices, default=DigestFrequency.DAILY)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("digest recipient")
        verbose_name_plural = _("digest recipients")
        ordering = ["email"]

    def __str__(self):
        return f"{self.name} <{self.email}>" if self.name else self.email


class DigestSending(models.TextChoices):
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    EMPTY = "empty", _("nothing to tell")


class DigestSent(models.Model):
    """One row per recipient and period, claimed before sending: a second run of the task
    (or a second worker) finds it and sends nothing; a claim whose process died is taken
    over after a while."""

    recipient = models.ForeignKey(DigestRecipient, on_delete=models.CASCADE,
                                  related_name="digests")
    period = models.CharField(max_length=20)  # 2026-03-02, or 2026-W10
    status = models.CharField(max_length=10, choices=DigestSending.choices,
                              default=DigestSending.SENDING)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient", "period"],
                                               name="leadscore_digest_once")]
