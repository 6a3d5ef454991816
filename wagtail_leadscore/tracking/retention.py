"""Data minimisation: anonymous browsing data, and raw events, are not kept forever."""

from datetime import timedelta

from django.utils import timezone

from ..conf import get_setting
from ..models import Event, Visitor

BATCH_SIZE = 1000


def prune_anonymous_visitors(now=None):
    """Delete never-identified visitors unseen for ANONYMOUS_RETENTION_DAYS, with their
    events; return how many visitors. Whatever belongs to a contact is kept: visitors of
    contacts, and visitors holding any event of a contact. Deletes in batches, so a large
    backlog never holds one long transaction."""
    days = get_setting("ANONYMOUS_RETENTION_DAYS")
    if days is None:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    stale = Visitor.objects.filter(contact__isnull=True, last_seen__lt=cutoff).exclude(
        pk__in=Event.objects.filter(contact__isnull=False, visitor__isnull=False).values(
            "visitor"
        )
    )
    return delete_in_batches(stale)


def prune_old_events(now=None):
    """Delete events older than EVENT_RETENTION_DAYS (None: keep them); return how many.
    The scores stay: their ledger lines outlive the events (a later
    ``leadscore_rebuild_scores`` counts only the events left, so keep events longer than
    the score window). In batches, as above."""
    days = get_setting("EVENT_RETENTION_DAYS")
    if days is None:
        return 0
    return delete_in_batches(
        Event.objects.filter(occurred_at__lt=(now or timezone.now()) - timedelta(days=days)))


def delete_in_batches(queryset):
    """Delete the rows of ``queryset`` BATCH_SIZE at a time (one short transaction each);
    return how many."""
    deleted = 0
    while batch := list(queryset.values_list("pk", flat=True)[:BATCH_SIZE]):
        queryset.model.objects.filter(pk__in=batch).delete()
        deleted += len(batch)
    return deleted
