"""Triggers that fire with time instead of an event: a contact quiet for N days, an email
not opened N days after it went, the anniversary of a date fact. The hourly
``fire_time_triggers`` task asks each active rule with such a trigger for its
(contact, occurrence) pairs, set-based; a rule runs once per occurrence (the quiet spell,
the message, the year), which its run's unique key holds."""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import CharField, Exists, F, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FACT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# How far back "not opened after N days" looks past the N days: older sends are done.
NOT_OPENED_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class TimeTrigger:
    key: str
    label: str
    scan: object  # (rule, now) -> iterable of (contact id, occurrence)
    value_kind: str  # "days" or "fact"

    def validate(self, rule):
        value = (rule.value or "").strip()
        if self.value_kind == "days" and not (
                value.isascii() and value.isdigit() and int(value) > 0):
            return {"value": _("Give the number of days.")}
        if self.value_kind == "fact" and not FACT_NAME.match(value):
            return {"value": _("Give the key of a date fact, such as contract_signed.")}
        return {}


def quiet_contacts(rule, now):
    """Contacts that did nothing for N days (their creation counts as doing something);
    once per quiet spell, named by when it began."""
    from ..models import Contact, Event

    done = Event.objects.filter(contact=OuterRef("pk")).exclude(type__in=Event.SYSTEM_TYPES)
    last = Coalesce(Subquery(done.order_by("-occurred_at").values("occurred_at")[:1]),
                    F("created_at"))
    quiet = Contact.objects.annotate(last_done=last).filter(
        last_done__lt=now - timedelta(days=int(rule.value)))
    return ((pk, f"quiet:{since.isoformat()}") for pk, since in
            quiet.values_list("pk", "last_done").iterator())


def unopened_emails(rule, now):
    """Emails sent N days ago (the one named by ``answer``, or any) that were neither
    opened nor clicked; once per message."""
    from ..mail.models import OutboxMessage, Status
    from ..models import Event

    before = now - timedelta(days=int(rule.value))
    sent = OutboxMessage.objects.filter(status=Status.SENT, to_email="", sent_at__lte=before,
                                        sent_at__gt=before - NOT_OPENED_LOOKBACK)
    if rule.answer.strip():
        sent = sent.filter(email__slug=rule.answer.strip())
    reacted = Event.objects.filter(type__in=("email_open", "email_click"), contact=OuterRef(
        "contact"), occurred_at__gte=OuterRef("sent_at")).annotate(
        message=KeyTextTransform("message", "properties")).filter(
        message=Cast(OuterRef("pk"), CharField()))
    return ((contact, f"message:{pk}") for pk, contact in
            sent.exclude(Exists(reacted)).values_list("pk", "contact_id").iterator())


def anniversaries(rule, now):
    """Contacts whose date fact (YYYY-MM-DD) falls on today's month and day, in the site's
    time zone; once a year."""
    from ..models import Contact

    today = timezone.localdate(now)
    dated = Contact.objects.filter(**{f"facts__{rule.value.strip()}__endswith":
                                      f"-{today:%m-%d}"})
    return ((pk, f"year:{today.year}") for pk in dated.values_list("pk", flat=True).iterator())


TIME_TRIGGERS = (
    TimeTrigger("no_activity", _("No activity for N days (the value)"), quiet_contacts,
                "days"),
    TimeTrigger("email_not_opened", _("An email not opened N days (the value) after it went; "
                                      "“answer”: the email's slug, or any"),
                unopened_emails, "days"),
    TimeTrigger("anniversary", _("Anniversary of a date fact (the value: its key)"),
                anniversaries, "fact"),
)
