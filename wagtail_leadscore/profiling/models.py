"""What a progressive form received: every submission, as it was sent, and the consents
given with them."""

import hashlib

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
    # The browser that sent it: an unverified browser is shown only its own answers.
    visitor = models.ForeignKey("wagtail_leadscore.Visitor", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    answers = models.JSONField(_("answers"), default=dict)
    # Answers of an unverified browser that differ from what the contact said: kept here
    # for sales to see, never written over the contact's facts.
    unconfirmed = models.JSONField(_("unconfirmed answers"), default=dict, blank=True)
    consent_text = models.TextField(_("consent wording"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    token = models.CharField(max_length=32, unique=True)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        ordering = ["-submitted_at"]

    def __str__(self):
        return f"{self.contact} @ {self.submitted_at:%Y-%m-%d %H:%M}"


class ConsentRecord(models.Model):
    """Proof of a consent: the wording the person agreed to (and its version, a hash of
    it, so records of one wording group together), where and when."""

    contact = models.ForeignKey("wagtail_leadscore.Contact", on_delete=models.CASCADE,
                                related_name="consents")
    wording = models.TextField(_("wording"))
    version = models.CharField(_("wording version"), max_length=16)
    source = models.CharField(_("source"), max_length=200,
                              help_text=_("Where it was given, e.g. a form on a page."))
    given_at = models.DateTimeField(_("given"), default=timezone.now)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-given_at"]

    @staticmethod
    def version_of(wording):
        return hashlib.sha256(wording.encode()).hexdigest()[:12]
