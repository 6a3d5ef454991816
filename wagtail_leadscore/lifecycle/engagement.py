"""Engagement: active, cooling or inactive, from how recently a contact last did anything.
The system's own events (``Event.SYSTEM_TYPES``, e.g. ``email_sent``) are no sign of life;
a contact's creation is. Stored on the contact by a daily task, set-based, for lists and
segments. Sending asks :func:`inactive_among` instead, so a contact who comes back is
emailed again at once; an inactive one gets no marketing email, and keeps its history."""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ..conf import get_setting
from .stages import Engagement


def alive_since(moment):
    """Contacts who did something (or were created) since ``moment``, as a ``Q``."""
    from ..models import Event

    did = Event.objects.filter(contact=OuterRef("pk"), occurred_at__gte=moment).exclude(
        type__in=Event.SYSTEM_TYPES)
    return Q(Exists(did)) | Q(created_at__gte=moment)


def update_engagement(now=None):
    """Move every contact to its engagement; returns how many changed, per engagement."""
    from ..models import Contact

    now = now or timezone.now()
    recent = alive_since(now - timedelta(days=get_setting("ENGAGEMENT_ACTIVE_DAYS")))
    lively = alive_since(now - timedelta(days=get_setting("ENGAGEMENT_INACTIVE_DAYS")))
    wanted = {Engagement.ACTIVE: Q(recent), Engagement.COOLING: Q(lively) & ~Q(recent),
              Engagement.INACTIVE: ~Q(lively)}
    return {engagement: Contact.objects.filter(condition).exclude(engagement=engagement)
            .update(engagement=engagement) for engagement, condition in wanted.items()}


def inactive_among(contact_ids, now=None):
    """The ids of ``contact_ids`` that did nothing for ENGAGEMENT_INACTIVE_DAYS: one query."""
    from ..models import Contact

    if not contact_ids:
        return set()
    now = now or timezone.now()
    moment = now - timedelta(days=get_setting("ENGAGEMENT_INACTIVE_DAYS"))
    return set(Contact.objects.filter(pk__in=contact_ids).exclude(alive_since(moment))
               .values_list("pk", flat=True))
