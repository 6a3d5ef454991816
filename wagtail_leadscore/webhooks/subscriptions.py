"""Webhooks that hear about every event of the types they chose: an ``event_recorded``
receiver queues one call per webhook and event (after automation, so the contact's stage
and scores are this event's). Costs a dict lookup per event when no webhook listens."""

import logging
import time

from ..conf import get_setting
from ..db import savepoint_if_in_transaction
from .delivery import contact_data, enqueue
from .models import Webhook


class Subscriptions:
    """{event type: [active webhooks]}, loaded once per process and again after an edit
    (or after SCORING_CACHE_SECONDS, for edits made by another process)."""

    def __init__(self):
        self._by_type, self._loaded_at = None, 0.0

    def for_type(self, event_type):
        max_age = get_setting("SCORING_CACHE_SECONDS")
        if self._by_type is None or time.monotonic() - self._loaded_at >= max_age:
            by_type = {}
            for webhook in Webhook.objects.filter(is_active=True).exclude(events=[]):
                for name in webhook.events:
                    by_type.setdefault(name, []).append(webhook)
            self._by_type, self._loaded_at = by_type, time.monotonic()
        return self._by_type.get(event_type, ())

    def clear(self, **kwargs):
        self._by_type = None


subscriptions = Subscriptions()
logger = logging.getLogger(__name__)


def event_data(event):
    """What a payload says of an event (README: "Webhook payloads")."""
    return {
        "id": event.pk, "type": event.type, "name": event.name,
        "occurred_at": event.occurred_at, "path": event.path, "properties": event.properties,
        "visitor": str(event.visitor_id) if event.visitor_id else None,
        "contact": contact_data(event.contact) if event.contact_id else None,
    }


def notify_webhooks(sender, event, **kwargs):
    """``event_recorded`` receiver: one queued call per subscribed webhook. A failure is
    logged, never raised: the event is stored, whatever happens to its calls."""
    try:
        webhooks = subscriptions.for_type(event.type)
        if not webhooks:
            return
        with savepoint_if_in_transaction():
            data = event_data(event)
            for webhook in webhooks:
                enqueue(webhook, event.type, data, f"event:{event.pk}:{webhook.pk}")
    except Exception:
        logger.exception("Queueing the webhook calls of event %s failed.", event.pk)
