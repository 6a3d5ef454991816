"""What a progressive form received: every submission, as it was sent."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ProfileSubmission(models.Model):
    """One accepted submission of a progressive form: the page and block it came from, the
    answers, the consent wording shown (if any) and when. ``token`` is the form render's
    nonce: a resent or replayed form is stored once."""

    page = models.ForeignKey("wagtailcore.Page", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    block_id = models.CharField(max_length=64)
    contact = models.ForeignKey("wagtail_leadscore.Contact", on_delete=models.CASCADE,
                                related_name="profile_submissions")
    answers = models.JSONField(_("answers"), default=dict)
    consent_text = models.TextField(_("consent wording"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    token = models.CharField(max_length=32, unique=True)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        ordering = ["-submitted_at"]

    def __str__(self):
        return f"{self.contact} @ {self.submitted_at:%Y-%m-%d %H:%M}"
