"""Tracking degrades instead of failing: errors are logged and counted, pages still served."""

import logging

from django.core.cache import cache

logger = logging.getLogger("wagtail_leadscore")
FAILURE_COUNTER_KEY = "wagtail_leadscore:tracking_failures"


def note_tracking_failure(error):
    logger.error("Tracking failed, the request goes on untracked: %r", error, exc_info=error)
    try:
        cache.add(FAILURE_COUNTER_KEY, 0, timeout=None)
        cache.incr(FAILURE_COUNTER_KEY)
    except Exception:  # noqa: BLE001 - the cache may be what is down
        logger.exception("Could not count the tracking failure.")


def tracking_failure_count():
    """Tracking failures since the cache was last cleared (for monitoring)."""
    return cache.get(FAILURE_COUNTER_KEY, 0)
