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
    pruned = 0
    while batch := list(stale.values_list("pk", flat=True)[:BATCH_SIZE]):
        Visitor.objects.filter(pk__in=batch).delete()
        pruned += len(batch)
    return pruned


def prune_old_events(now=None):
    """Delete events older than EVENT_RETENTION_DAYS (None: keep them); return how many.
    The scores stay: their ledger lines outlive the events (a later
    ``leadscore_rebuild_scores`` counts only the events left, so keep events longer than
    the score window). In batches, as above."""
    days = get_setting("EVENT_RETENTION_DAYS")
    if days is None:
        return 0
    old = Event.objects.filter(occurred_at__lt=(now or timezone.now()) - timedelta(days=days))
    pruned = 0
    while batch := list(old.values_list("pk", flat=True)[:BATCH_SIZE]):
        Event.objects.filter(pk__in=batch).delete()
        pruned += len(batch)
    return pruned
