"""The emailed lead digest: new leads, the contacts who gained most points, leads gone
cold and segment counts, for the last complete day or week (in the site's time zone).
The hourly task sends each recipient's digest once per period; an empty one is not sent."""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from ..lifecycle.stages import OPEN_LEAD_STAGES, Engagement
from ..models import Contact, Event
from ..scoring.models import GLOBAL, ScoreEntry
from ..segments.models import Segment
from .dossier import contact_admin_url
from .models import DigestFrequency, DigestRecipient, DigestSending, DigestSent

logger = logging.getLogger(__name__)
TOP = 10
CLAIM_TIMEOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class Period:
    key: str
    start: datetime
    end: datetime


def last_complete_period(frequency, now):
    """Yesterday, or last week (Monday to Monday), in the site's time zone."""
    today = timezone.localtime(now).date()
    if frequency == DigestFrequency.WEEKLY:
        end_day = today - timedelta(days=today.weekday())
        start_day = end_day - timedelta(days=7)
        year, week, _weekday = start_day.isocalendar()
        key = f"{year}-W{week:02d}"
    else:
        end_day = today
        start_day = today - timedelta(days=1)
        key = start_day.isoformat()
    zone = timezone.get_current_timezone()
    return Period(key, datetime.combine(start_day, time(), zone),
                  datetime.combine(end_day, time(), zone))


def digest_context(period):
    new_leads = (Event.objects.filter(type="lead_qualified", occurred_at__gte=period.start,
                                      occurred_at__lt=period.end)
                 .select_related("contact").order_by("occurred_at"))
    gainers = (ScoreEntry.objects.filter(contact__isnull=False, dimension=GLOBAL, counted=True,
                                         occurred_at__gte=period.start,
                                         occurred_at__lt=period.end)
               .values("contact").annotate(points=Sum("points")).filter(points__gt=0)
               .order_by("-points")[:TOP])
    contacts = Contact.objects.in_bulk([row["contact"] for row in gainers])
    cold = Contact.objects.filter(stage__in=OPEN_LEAD_STAGES).exclude(
        engagement=Engagement.ACTIVE).order_by("stage_changed_at")[:TOP]
    segments = Segment.objects.filter(is_active=True).annotate(
        members=Count("memberships", filter=Q(memberships__contact__isnull=False))
    ).order_by("name")
    return {
        "period": period,
        # An erased lead's event stays, without its contact: listed, linked to nothing.
        "new_leads": [(event, contact_admin_url(event.contact) if event.contact_id else None)
                      for event in new_leads],
        "gainers": [(contacts[row["contact"]], row["points"], contact_admin_url(
            contacts[row["contact"]])) for row in gainers],
        "cold": [(contact, contact_admin_url(contact)) for contact in cold],
        "segments": segments,
    }


def is_empty(context):
    return not (context["new_leads"] or context["gainers"] or context["cold"])


def claim(recipient, period, now):
    """True if this run may send ``recipient``'s digest of ``period``."""
    try:
        with transaction.atomic():
            DigestSent.objects.create(recipient=recipient, period=period.key, claimed_at=now)
        return True
    except IntegrityError:
        pass
    # Sent, empty, or being sent; a claim whose process died is taken over, by one run.
    stale = DigestSent.objects.filter(recipient=recipient, period=period.key,
                                      status=DigestSending.SENDING,
                                      claimed_at__lt=now - CLAIM_TIMEOUT)
    claimed_at = stale.values_list("claimed_at", flat=True).first()
    if claimed_at is None or not stale.filter(claimed_at=claimed_at).update(claimed_at=now):
        return False
    logger.warning("The lead digest %s to %s was claimed %d minutes ago and never sent (its"
                   " run died); sending it now.", period.key, recipient.email,
                   (now - claimed_at) // timedelta(minutes=1))
    return True


def send_digests(now=None):
    """The hourly task: each active recipient's digest of its last complete period, once.
    A digest that fails is logged and released for the next run; the others go on.
    Returns {"sent": n, "empty": n}."""
    now = now or timezone.now()
    outcomes = {"sent": 0, "empty": 0}
    contexts = {}
    for recipient in DigestRecipient.objects.filter(is_active=True):
        period = last_complete_period(recipient.frequency, now)
        if not claim(recipient, period, now):
            continue
        try:
            outcomes[send_digest(recipient, period, contexts)] += 1
        except Exception:
            DigestSent.objects.filter(recipient=recipient, period=period.key).delete()
            logger.exception("Sending the lead digest to %s failed; the next run tries again.",
                             recipient.email)
    return outcomes


def send_digest(recipient, period, contexts):
    """Send ``recipient``'s claimed digest of ``period`` (``contexts``: built ones, by
    period): "sent", or "empty" when there is nothing to tell."""
    if period.key not in contexts:
        contexts[period.key] = digest_context(period)
    context = contexts[period.key]
    row = DigestSent.objects.filter(recipient=recipient, period=period.key)
    if is_empty(context):
        row.update(status=DigestSending.EMPTY)
        return "empty"
    digest_message(recipient, context).send()
    row.update(status=DigestSending.SENT, sent_at=timezone.now())
    return "sent"


def digest_message(recipient, context):
    context = {**context, "recipient": recipient}
    subject = (_("Leads of the week %(period)s") if "W" in context["period"].key
               else _("Leads of %(period)s")) % {"period": context["period"].key}
    message = EmailMultiAlternatives(
        subject=subject, to=[recipient.email], from_email=settings.DEFAULT_FROM_EMAIL,
        body=render_to_string("wagtail_leadscore/sales/digest.txt", context))
    message.attach_alternative(render_to_string("wagtail_leadscore/sales/digest.html", context),
                               "text/html")
    return message
