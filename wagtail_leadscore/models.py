"""The data every other part of leadscore reads: visitors, contacts and the event log."""

import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from .lifecycle.stages import CONTACT_STAGES, Engagement, Stage


class Company(models.Model):
    """An account: one organisation's contacts (those with an address at its email domain,
    unless set to another company by hand) and its master data."""

    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(
        _("email domain"), max_length=253, unique=True, null=True, blank=True,
        help_text=_("Contacts with an address at this domain belong to the company, e.g."
                    " timberframe.example. Not a free-mail domain."))
    facts = models.JSONField(
        _("account facts"), default=dict, blank=True, encoder=DjangoJSONEncoder,
        help_text=_("Master data, e.g. {\"crm_id\": \"A-17\", \"employees\": 250}."))
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        from .companies import FREE_MAIL_DOMAINS, normalize_domain

        self.domain = normalize_domain(self.domain)
        if self.domain in FREE_MAIL_DOMAINS:
            raise ValidationError({"domain": _("A free-mail domain names no company.")})

    def save(self, *args, **kwargs):
        from .companies import attach_domain_contacts, normalize_domain
        from .segments.membership import refresh_company_contacts

        self.domain = normalize_domain(self.domain)
        super().save(*args, **kwargs)
        attach_domain_contacts(self)
        refresh_company_contacts(self)


class Contact(models.Model):
    """A known person. Emails are stored lower-cased, so they are unique case-insensitively."""

    PROFILE_FIELDS = (
        "first_name",
        "last_name",
        "company",
        "company_size",
        "job_title",
        "phone",
        "industry",
        "country",
    )

    email = models.EmailField(_("email"), max_length=254, unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    company_size = models.CharField(_("company size"), max_length=50, blank=True)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    facts = models.JSONField(
        _("custom facts"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=CONTACT_STAGES, default=Stage.PROSPECT
    )
    stage_changed_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    fit_score = models.IntegerField(_("fit score"), default=0)
    fit_grade = models.CharField(_("fit grade"), max_length=1, default="D")
    # Set daily from the last thing the contact did (lifecycle.engagement).
    engagement = models.CharField(_("engagement"), max_length=10, choices=Engagement.choices,
                                  default=Engagement.ACTIVE, editable=False)
    # Email: no marketing email after an unsubscribe, no email at all after a hard bounce.
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True,
                                           editable=False)
    bounced_at = models.DateTimeField(_("email bounced"), null=True, blank=True, editable=False)
    tags = TaggableManager(verbose_name=_("tags"), through="wagtail_leadscore.ContactTag",
                           blank=True)
    # Who in sales looks after the contact (lifecycle.owners); the time picks whose turn
    # it is when a group shares the contacts in turns.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True,
                              blank=True, on_delete=models.SET_NULL,
                              related_name="leadscore_contacts")
    owner_assigned_at = models.DateTimeField(_("owner since"), null=True, blank=True,
                                             editable=False)
    # The person objected to tracking (privacy.objection): nothing they do is recorded.
    tracking_objected_at = models.DateTimeField(_("objected to tracking"), null=True,
                                                blank=True, editable=False)
    # Found by the email domain when the contact is saved without one; or set by hand.
    account = models.ForeignKey(Company, verbose_name=_("company account"), null=True,
                                blank=True, on_delete=models.SET_NULL, related_name="contacts")
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-created_at"]

    def __str__(self):
        full_name = f"{self.first_name} {self.last_name}".strip()
        return f"{full_name} <{self.email}>" if full_name else self.email

    def clean(self):
        # Before the uniqueness check of forms, so "Anna@X.com" clashes with "anna@x.com".
        self.email = normalize_email(self.email)

    def save(self, *args, **kwargs):
        from .companies import company_of_email

        self.email = normalize_email(self.email)
        update_fields = kwargs.get("update_fields")
        if self.account_id is None and (update_fields is None or "email" in update_fields):
            self.account = company_of_email(self.email)
            if update_fields is not None and self.account_id is not None:
                kwargs["update_fields"] = {*update_fields, "account"}
        super().save(*args, **kwargs)


class ContactTag(TaggedItemBase):
    """A tag on a contact (marketing labels; segments can test them)."""

    content_object = models.ForeignKey(Contact, on_delete=models.CASCADE,
                                       related_name="tagged_items")


def normalize_email(email):
    return (email or "").strip().lower()


class Visitor(models.Model):
    """One browser, known by the random id in its signed first-party cookie."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visitors",
    )
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now, db_index=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    device = models.CharField(_("device"), max_length=20, blank=True)
    browser = models.CharField(_("browser"), max_length=100, blank=True)
    os = models.CharField(_("operating system"), max_length=100, blank=True)
    is_bot = models.BooleanField(_("is a bot"), default=False)
    # Its person objected to tracking: the tracking statements skip it (privacy.objection).
    tracking_objected = models.BooleanField(_("objected to tracking"), default=False,
                                            db_default=False)
    # Proven to be its contact's (a signed email link opened in it): only then is it shown
    # what the contact said elsewhere. A browser linked by a typed email is not (identity).
    verified = models.BooleanField(_("verified"), default=False, db_default=False)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")

    def __str__(self):
        return str(self.id)


class Event(models.Model):
    """One thing a visitor or contact did: the append-only log everything derives from."""

    # What the system concluded or did, not what the person did: no sign of activity
    # (segments' "active within N days", engagement). Nor is a mail scanner's click or a
    # machine's load of the open pixel.
    SYSTEM_TYPES = frozenset({"segment_entered", "segment_left", "stage_change",
                              "lead_qualified", "email_sent", "email_scan",
                              "email_machine_open", "tag_added", "note"})

    type = models.CharField(_("type"), max_length=40)
    name = models.CharField(_("name"), max_length=200, blank=True)
    # db_index=False: the (visitor|contact, occurred_at) indexes below serve these lookups,
    # and every index is one more write per tracked page view.
    visitor = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.CASCADE, related_name="events",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="events",
        db_index=False,
    )
    # No database constraint: a beacon may name a page deleted since the HTML was cached;
    # Django still sets the column to NULL when a page is deleted.
    page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    path = models.CharField(_("path"), max_length=2048, blank=True)
    query = models.TextField(_("query string"), blank=True)
    referrer = models.CharField(_("referrer"), max_length=2048, blank=True)
    properties = models.JSONField(
        _("properties"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    # Makes a retried or doubly reported event (server view + beacon) count once.
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        # Partial where a column is often empty: an anonymous view has no contact, a
        # contact's derived event (segment_entered, ...) no visitor, most events no
        # dedupe_key; each index left out is one write less per event.
        indexes = [
            models.Index(fields=["contact", "occurred_at"], condition=Q(contact__isnull=False),
                         name="leadscore_event_by_contact"),
            models.Index(fields=["visitor", "occurred_at"], condition=Q(visitor__isnull=False),
                         name="leadscore_event_by_visitor"),
            models.Index(fields=["type", "occurred_at"], name="leadscore_event_type"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], condition=Q(dedupe_key__isnull=False),
                                    name="leadscore_event_dedupe_key"),
        ]

    def __str__(self):
        return f"{self.type} {self.name or self.path} @ {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def url(self):
        return f"{self.path}?{self.query}" if self.query else self.path


class ApiKey(models.Model):
    """A key for the HTTP API. Only its SHA-256 is stored; the key is shown once."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key):
        return hashlib.sha256(raw_key.encode()).hexdigest()

    def set_new_key(self):
        """Give this key a new secret and return it: the only time it is readable.

        Keys start with "ls_" so secret scanners (and people) recognise them; the stored
        prefix (never starting with "-") names the key in lists and on the command line.
        """
        raw_key = "ls_" + secrets.token_urlsafe(32)
        self.prefix = raw_key[:11]
        self.hashed_key = self.hash(raw_key)
        return raw_key


# Models of the parts of leadscore, imported so that Django registers them with this app.
from .automation.models import AutomationRule, AutomationRun  # noqa: E402, F401
from .lifecycle.definition import LeadDefinition  # noqa: E402, F401
from .mail.models import Email, OutboxMessage  # noqa: E402, F401
from .nurture.models import Enrolment, Sequence, SequenceStep  # noqa: E402, F401
from .profiling.models import ConsentRecord, ProfileSubmission  # noqa: E402, F401
from .sales.models import DigestRecipient, DigestSent, SalesHandoff  # noqa: E402, F401
from .scoring.models import (  # noqa: E402, F401
    FitRule,
    Score,
    ScoreCounter,
    ScoreEntry,
    ScoringRule,
    Topic,
)
from .segments.models import Segment, SegmentMembership  # noqa: E402, F401
from .webhooks.models import Webhook, WebhookDelivery  # noqa: E402, F401


class DeferredEvent(models.Model):
    """An event whose write failed where nothing may be lost with it (a form, an API
    record): kept here, and recorded by the ``replay_deferred_events`` task once the event
    log takes writes again."""

    type = models.CharField(max_length=40)
    visitor = models.ForeignKey(Visitor, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    # The other keyword arguments of record_event (page_id, name, properties, ...).
    fields = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("deferred event")
        verbose_name_plural = _("deferred events")
        ordering = ["pk"]


class PrivacyLogEntry(models.Model):
    """An audit line of a privacy action (an export, an erasure, an objection): who, when,
    and the counts of what it touched. Never the person's data: after an erasure the
    contact's id names no one."""

    class Action(models.TextChoices):
        EXPORT = "export", _("Data exported")
        ERASE = "erase", _("Personal data erased")
        OBJECT = "object", _("Objected to tracking")

    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    contact_id = models.BigIntegerField(_("contact id"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True,
                             blank=True, on_delete=models.SET_NULL, related_name="+")
    via = models.CharField(_("via"), max_length=20)
    details = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("privacy log entry")
        verbose_name_plural = _("privacy log")
        ordering = ["-at"]
