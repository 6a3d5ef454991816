"""Objection to tracking (GDPR art. 21): from now on nothing watches the person. Their
browsers are flagged, so the tracking statements skip them (no query more for anyone
else); a browser they identify on later is flagged too; events that watch a person (page
views, engagement, custom events, downloads, email opens and clicks) are not recorded for
them. What they send on purpose (forms) and what the company does (emails, stage
changes) still is. What was recorded before stays, until erased."""

from django.db import transaction
from django.utils import timezone

from ..models import Contact, PrivacyLogEntry, Visitor


def object_to_tracking(contact, *, user=None, via="python"):
    """Stop all tracking of ``contact``; returns the audit entry."""
    with transaction.atomic():
        now = timezone.now()
        Contact.objects.filter(pk=contact.pk, tracking_objected_at__isnull=True).update(
            tracking_objected_at=now)
        contact.tracking_objected_at = contact.tracking_objected_at or now
        browsers = Visitor.objects.filter(contact=contact).update(tracking_objected=True)
        return PrivacyLogEntry.objects.create(
            action=PrivacyLogEntry.Action.OBJECT, contact_id=contact.pk, user=user, via=via,
            details={"browsers": browsers})
