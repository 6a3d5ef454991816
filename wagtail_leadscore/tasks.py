"""django-q2 entry points. Thin: each calls into the module that owns the work."""

from .lifecycle.transitions import qualify_candidates
from .scoring import aging, fit
from .tracking.retention import prune_anonymous_visitors as _prune_anonymous_visitors


def prune_anonymous_visitors():
    """Daily: delete anonymous visitors past ANONYMOUS_RETENTION_DAYS, with their events."""
    return _prune_anonymous_visitors()


def age_scores():
    """Daily: points leaving the window stop counting (and decay applies); the lead
    definition is then evaluated on the aged scores."""
    expired = aging.age_scores()
    return {"expired_lines": expired, "new_leads": qualify_candidates()}


def recompute_fit():
    """After fit rules changed: every contact's fit and grade, then new leads."""
    return {"changed": fit.recompute_all_fit(), "new_leads": qualify_candidates()}
