"""Webhooks that hear about every event of the types they chose: an ``event_recorded``
receiver queues one call per webhook and event (after automation, so the contact's stage
and scores are this event's). Costs a dict lookup per event when no webhook listens."""

import logging

from ..caching import ProcessCache
from ..db import savepoint_if_in_transaction
from .delivery import contact_data, enqueue
from .models import Webhook


def subscribed_webhooks():
    """{event type: [active webhooks that chose it]}."""
    by_type = {}
    for webhook in Webhook.objects.filter(is_active=True).exclude(events=[]):
        for name in webhook.events:
            by_type.setdefault(name, []).append(webhook)
    return by_type


subscriptions = ProcessCache(subscribed_webhooks)
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
        webhooks = subscriptions.get().get(event.type)
        if not webhooks:
            return
        with savepoint_if_in_transaction():
            data = event_data(event)
            for webhook in webhooks:
                enqueue(webhook, event.type, data, f"event:{event.pk}:{webhook.pk}")
    except Exception:
        logger.exception("Queueing the webhook calls of event %s failed.", event.pk)
