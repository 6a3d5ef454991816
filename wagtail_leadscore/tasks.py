"""django-q2 entry points. Thin: each calls into the module that owns the work."""

from .tracking.retention import prune_anonymous_visitors as _prune_anonymous_visitors


def prune_anonymous_visitors():
    """Daily: delete anonymous visitors past ANONYMOUS_RETENTION_DAYS, with their events."""
    return _prune_anonymous_visitors()
