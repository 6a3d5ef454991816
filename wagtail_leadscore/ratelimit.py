"""A fixed-window rate limit per client IP, kept in Django's cache (no database query)."""

import time
from functools import wraps

from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import gettext as _

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


def rate_limited(scope, setting):
    """A view decorator: a client over the ``setting``'s requests per minute gets a 429,
    before the view does any work."""
    def decorator(view):
        @wraps(view)
        def limited(request, *args, **kwargs):
            if is_rate_limited(request, scope, get_setting(setting)):
                response = HttpResponse(_("Too many requests. Please try again in a minute."),
                                        status=429, content_type="text/plain; charset=utf-8")
                response["Retry-After"] = "60"
                return response
            return view(request, *args, **kwargs)
        return limited
    return decorator
