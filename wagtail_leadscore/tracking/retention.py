"""Data minimisation: anonymous browsing data is not kept forever."""

from datetime import timedelta

from django.utils import timezone

from ..conf import get_setting
from ..models import Visitor


def prune_anonymous_visitors(now=None):
    """Delete never-identified visitors unseen for ANONYMOUS_RETENTION_DAYS; return how many.

    Visitors of contacts are kept: their history belongs to a known person.
    """
    days = get_setting("ANONYMOUS_RETENTION_DAYS")
    if days is None:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    stale = Visitor.objects.filter(contact__isnull=True, last_seen__lt=cutoff)
    count = stale.count()
    stale.delete()
    return count
