"""Queueing and delivering webhook calls, as the outbox does email: a row per call, unique
by its key; workers claim due rows with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL);
a failure is retried with exponential backoff up to WEBHOOK_MAX_ATTEMPTS; an endpoint that
fails WEBHOOK_DISABLE_AFTER times in a row is switched off, and its calls wait for it."""

import json
import logging
import time
from collections import Counter
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import timezone

from ..conf import get_setting
from ..db import claim_due
from .addresses import RefusedAddress
from .http import SIGNATURE_HEADER, post, signature
from .models import DeliveryStatus, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)
PAYLOAD_VERSION = 1


def enqueue(webhook, event, data, key):
    """The delivery for ``key``, created if new: ``{"event", "version", "sent_for", "data"}``
    as the JSON body (README: "Webhook payloads")."""
    payload = {"event": event, "version": PAYLOAD_VERSION,
               "created_at": timezone.now().isoformat(), "data": data}
    delivery, _ = WebhookDelivery.objects.get_or_create(key=key[:200], defaults={
        "webhook": webhook, "event": event[:50],
        "payload": json.loads(json.dumps(payload, cls=DjangoJSONEncoder))})
    return delivery


def contact_data(contact):
    """What a payload says of a contact."""
    from ..scoring.engine import scores_for

    scores = scores_for(contact)
    return {
        "id": contact.pk, "email": contact.email, "first_name": contact.first_name,
        "last_name": contact.last_name, "company": contact.company,
        "job_title": contact.job_title, "phone": contact.phone, "stage": contact.stage,
        "score": scores["global"], "facts": contact.facts,
        "topics": {topic.slug: value for topic, value in scores["topics"].items()},
        "owner": contact.owner.get_username() if contact.owner_id else None,
        "tags": sorted(contact.tags.names()),
    }


def deliver_due(now=None, limit=None):
    """Call what is due; returns the counts per outcome ({"delivered": n, "retry": n,
    "failed": n, "refused": n})."""
    outcomes = Counter()
    limit = limit or get_setting("WEBHOOK_BATCH_SIZE")
    while batch := claim(now or timezone.now(), limit):
        for delivery in batch:
            outcomes[deliver(delivery, now or timezone.now())] += 1
        if len(batch) < limit:
            break
    return dict(outcomes)


def claim(now, limit):
    due = (Q(status=DeliveryStatus.QUEUED, next_attempt_at__lte=now)
           | Q(status=DeliveryStatus.SENDING, lease_until__lt=now))
    lease = now + timedelta(seconds=get_setting("WEBHOOK_TIMEOUT_SECONDS") * 3 + 60)
    ids = claim_due(WebhookDelivery, due & Q(webhook__is_active=True),
                    ("next_attempt_at", "pk"), limit, status=DeliveryStatus.SENDING,
                    lease_until=lease)
    return list(WebhookDelivery.objects.filter(pk__in=ids).select_related("webhook")
                .order_by("next_attempt_at", "pk"))


def deliver(delivery, now):
    webhook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {SIGNATURE_HEADER: signature(webhook.secret, int(time.time()), body),
               "X-Leadscore-Event": delivery.event, "X-Leadscore-Delivery": str(delivery.pk)}
    try:
        status, excerpt = post(webhook.url, body, headers,
                               get_setting("WEBHOOK_TIMEOUT_SECONDS"))
    except RefusedAddress as refused:  # retrying cannot help: failed at once, and said why
        return finish(delivery, now, DeliveryStatus.FAILED, None, str(refused), "refused")
    except (OSError, ValueError) as error:  # refused, reset, timed out, TLS, bad answer
        return retry_later(delivery, now, None, f"{type(error).__name__}: {error}")
    if 200 <= status < 300:
        return finish(delivery, now, DeliveryStatus.DELIVERED, status, "", "delivered")
    return retry_later(delivery, now, status, f"HTTP {status}: {excerpt}")


def retry_later(delivery, now, status, error):
    attempts = delivery.attempts + 1
    failed_in_a_row = note_failure(delivery.webhook, error)
    if attempts >= get_setting("WEBHOOK_MAX_ATTEMPTS"):
        return finish(delivery, now, DeliveryStatus.FAILED, status, error, "failed")
    delay = get_setting("WEBHOOK_RETRY_SECONDS") * 2 ** (attempts - 1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.QUEUED, attempts=attempts, lease_until=None,
        next_attempt_at=now + timedelta(seconds=delay), response_status=status,
        last_error=error[:2000])
    logger.warning("Webhook %s failed (%s in a row): %s", delivery.webhook, failed_in_a_row,
                   error[:200])
    return "retry"


def finish(delivery, now, status, response_status, error, outcome):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status, attempts=delivery.attempts + 1, lease_until=None,
        response_status=response_status, last_error=error[:2000],
        delivered_at=now if status == DeliveryStatus.DELIVERED else None)
    if status == DeliveryStatus.DELIVERED:
        Webhook.objects.filter(pk=delivery.webhook_id, consecutive_failures__gt=0).update(
            consecutive_failures=0)
    return outcome


def note_failure(webhook, error):
    """Count a failed call; switch the endpoint off after WEBHOOK_DISABLE_AFTER in a row."""
    webhook.consecutive_failures += 1
    Webhook.objects.filter(pk=webhook.pk).update(
        consecutive_failures=webhook.consecutive_failures)
    if webhook.consecutive_failures >= get_setting("WEBHOOK_DISABLE_AFTER"):
        reason = f"Switched off after {webhook.consecutive_failures} failures: {error}"[:300]
        Webhook.objects.filter(pk=webhook.pk).update(is_active=False, disabled_reason=reason)
        logger.error("Webhook %s: %s", webhook, reason)
    return webhook.consecutive_failures


def replay(delivery):
    """Send a delivered or failed call again (from the admin): queued now, attempts anew."""
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(
        status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at=timezone.now(),
        lease_until=None, last_error="", delivered_at=None)
