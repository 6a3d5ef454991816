"""django-q2 entry points. Thin: each calls into the module that owns the work."""

from .automation import engine as automation
from .events import replay_deferred_events as _replay_deferred_events
from .lifecycle.engagement import update_engagement as _update_engagement
from .lifecycle.transitions import qualify_candidates
from .mail import outbox
from .nurture import scheduler as nurture
from .sales import digests
from .scoring import aging, fit
from .segments import rebuild as segment_rebuild
from .tracking.retention import prune_anonymous_visitors as _prune_anonymous_visitors
from .tracking.retention import prune_old_events as _prune_old_events
from .webhooks import delivery as webhooks


def prune_anonymous_visitors():
    """Daily: delete anonymous visitors past ANONYMOUS_RETENTION_DAYS, with their events."""
    return _prune_anonymous_visitors()


def prune_old_events():
    """Daily: delete events older than EVENT_RETENTION_DAYS (if set)."""
    return _prune_old_events()


def age_scores():
    """Daily: points leaving the window stop counting (and decay applies); the lead
    definition is then evaluated on the aged scores."""
    expired = aging.age_scores()
    return {"expired_lines": expired, "new_leads": qualify_candidates()}


def recompute_fit():
    """After fit rules changed: every contact's fit and grade, then new leads."""
    return {"changed": fit.recompute_all_fit(), "new_leads": qualify_candidates()}


def rebuild_segment(segment_id):
    """After a segment was saved: its members, set-based."""
    from .segments.models import Segment

    segment = Segment.objects.filter(pk=segment_id).first()
    return segment_rebuild.rebuild_segment(segment) if segment is not None else None


def refresh_time_based_segments():
    """Hourly: segments with "within N days" or activity conditions change with time."""
    return segment_rebuild.rebuild_time_based()


def send_outbox():
    """Every minute: the due emails, in batches over one SMTP connection each."""
    return outbox.send_due()


def deliver_webhooks():
    """Every minute: the due webhook calls, retries included."""
    return webhooks.deliver_due()


def send_digests():
    """Hourly: each recipient's lead digest of its last complete day or week, once."""
    return digests.send_digests()


def update_engagement():
    """Daily: active, cooling or inactive, from what each contact last did."""
    return _update_engagement()


def resume_automations():
    """Every minute: automation runs whose "wait, then continue" is over go on."""
    return automation.resume_due()


def tick_sequences():
    """Every minute: the due steps of the nurture sequences go to the outbox."""
    return nurture.tick()


def fire_time_triggers():
    """Hourly: automation rules that time fires (quiet contacts, unopened emails,
    anniversaries)."""
    return automation.fire_time_triggers()


def replay_deferred_events():
    """Every minute: events kept while the event log refused writes are recorded."""
    return _replay_deferred_events()
