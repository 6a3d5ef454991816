"""A fixed-window rate limit per client IP, kept in Django's cache (no database query)."""

import time

from django.core.cache import cache

from .conf import get_setting


def client_ip(request):
    header = get_setting("CLIENT_IP_HEADER")
    if header and request.META.get(header):
        # Each proxy appends the address it was called from: the right-most entry was
        # written by our own proxy; the ones left of it are whatever the client sent.
        return request.META[header].split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def is_rate_limited(request, scope, per_minute):
    """Count this request; True once the client went over ``per_minute`` this minute."""
    window = int(time.time() // 60)
    key = f"wagtail_leadscore:rl:{scope}:{client_ip(request)}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=120)
        count = 1
    return count > per_minute
