"""Enqueueing and sending. Every email is an outbox row first, unique by its key; sending
claims due rows with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers
share the work), sends them over one SMTP connection and marks each one sent as soon as the
server accepted it. A worker killed mid-batch leaves the rows it had not finished claimed
until their lease expires; the next run sends those, and only those, again. A 5xx refusal
of the recipient is a bounce; any 4xx (greylisting) or an unreachable server is retried
with backoff (MAIL_RETRY_SECONDS, MAIL_MAX_ATTEMPTS).

Checked at send time, not when enqueueing: bounced contacts get nothing, unsubscribed and
inactive ones no marketing email, and a marketing email within the frequency cap of the
previous one is deferred (its ``send_after`` moves), never dropped.
"""

import logging
import smtplib
from collections import Counter
from datetime import timedelta

from django.core.mail import get_connection
from django.db.models import F, Max, Q
from django.utils import timezone

from ..conf import get_setting
from ..db import claim_due
from ..events import record_event
from ..lifecycle.engagement import inactive_among
from ..models import Contact
from .models import EmailKind, OutboxMessage, Status
from .render import PreparedEmail

logger = logging.getLogger(__name__)


def enqueue(contact, email, key, *, send_after=None, source="", frequency_cap_days=None,
            to_email=""):
    """The outbox row for ``key``, created if new (a second call with the same key returns
    the first row untouched: the occurrence is sent once). ``to_email``: email about the
    contact to someone else (a sales alert), which the contact's unsubscribe, bounce,
    engagement and frequency cap do not hold back."""
    message, _ = OutboxMessage.objects.get_or_create(key=key[:200], defaults={
        "contact": contact, "email": email, "source": source[:100],
        "send_after": send_after or timezone.now(),
        "frequency_cap_days": frequency_cap_days, "to_email": to_email})
    return message


def send_due(now=None, limit=None):
    """Send what is due, in batches over one SMTP connection each; returns the counts per
    outcome ({"sent": n, "deferred": n, "suppressed": n, "retry": n, "failed": n})."""
    outcomes = Counter()
    limit = limit or get_setting("MAIL_BATCH_SIZE")
    while batch := claim(now or timezone.now(), limit):
        outcomes.update(send_batch(batch, now))
        if len(batch) < limit:
            break
    return dict(outcomes)


def claim(now, limit):
    """Lease up to ``limit`` due rows (queued, or sending with an expired lease)."""
    due = (Q(status=Status.QUEUED, send_after__lte=now)
           | Q(status=Status.SENDING, lease_until__lt=now))
    lease = now + timedelta(seconds=get_setting("MAIL_LEASE_SECONDS"))
    ids = claim_due(OutboxMessage, due, ("send_after", "pk"), limit, status=Status.SENDING,
                    lease_until=lease)
    return list(OutboxMessage.objects.filter(pk__in=ids).select_related("email", "contact")
                .order_by("send_after", "pk"))


def send_batch(batch, now=None):
    """Send a claimed batch over one SMTP connection. Per batch, not per message: each
    email is rendered once, the contacts' last marketing sends are read in one query, and
    the tracked links of all messages are stored in one statement before any leaves."""
    now = now or timezone.now()
    outcomes = Counter()
    last_sent = last_marketing_sends(batch, now)
    inactive = inactive_among({message.contact_id for message in batch
                               if is_marketing_to_contact(message)}, now)
    sendable = []
    for message in batch:
        outcome = held_back(message, last_sent, inactive, now)
        if outcome:
            outcomes[outcome] += 1
        else:
            sendable.append(message)
    if not sendable:
        return outcomes
    prepared, built = {}, []
    for message in sendable:
        # Email about the contact to someone else is not tracked: its clicks and opens are
        # not the contact's, and its reader must not unsubscribe the contact.
        kind = (message.email_id, not message.to_email)
        if kind not in prepared:
            prepared[kind] = PreparedEmail(message.email, tracked=not message.to_email)
        mail, message.links = prepared[kind].build(message)
        built.append((message, mail))
    # Stored before the messages leave: a click can come at once.
    OutboxMessage.objects.bulk_update(sendable, ["links"])
    connection = get_connection()
    try:
        connection.open()
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("The mail server is unreachable (%s); %d messages wait.", error,
                       len(sendable))
        for message in sendable:
            outcomes[retry_later(message, error, now)] += 1
        return outcomes
    try:
        for message, mail in built:
            outcome = deliver(message, mail, connection, now)
            if outcome == "sent" and is_marketing_to_contact(message):
                last_sent[message.contact_id] = message.sent_at
            outcomes[outcome] += 1
    finally:
        connection.close()
    return outcomes


def held_back(message, last_sent, inactive, now):
    """"suppressed" (bounced; or marketing email to an unsubscribed or inactive contact),
    "deferred" (within the frequency cap; ``send_after`` moves to when it may go), or None:
    send it."""
    contact = message.contact
    if message.to_email:
        return None
    marketing = is_marketing_to_contact(message)
    if contact.bounced_at or (marketing and (contact.unsubscribed_at
                                             or contact.pk in inactive)):
        release(message, status=Status.SUPPRESSED)
        return "suppressed"
    if marketing:
        cap = cap_days(message)
        previous = last_sent.get(message.contact_id)
        if cap and previous is not None and previous + timedelta(days=cap) > now:
            release(message, status=Status.QUEUED, send_after=previous + timedelta(days=cap))
            return "deferred"
    return None


def deliver(message, mail, connection, now):
    """Send one built message; returns "sent", "failed" (a hard bounce) or "retry"."""
    try:
        mail.connection = connection
        mail.send()
    except smtplib.SMTPRecipientsRefused as error:
        if not is_permanent(error):  # greylisting, a full mailbox: try again later
            return retry_later(message, error, now)
        if not message.to_email:  # the contact's own address bounced
            Contact.objects.filter(pk=message.contact_id).update(bounced_at=now)
        release(message, status=Status.FAILED, last_error=str(error)[:1000])
        return "failed"
    except (smtplib.SMTPException, OSError) as error:
        return retry_later(message, error, now)
    message.sent_at = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENT, sent_at=message.sent_at, lease_until=None,
        attempts=F("attempts") + 1, message_id=mail.extra_headers["Message-ID"], last_error="")
    record_event("email_sent", contact=message.contact, name=message.email.slug,
                 occurred_at=message.sent_at,
                 properties={"message": message.pk, "source": message.source})
    return "sent"


def is_permanent(refused):
    """Whether the server refused the recipient for good: a 5xx reply. A 4xx (450
    greylisting, 451, 452 mailbox full, 421 closing) is temporary and never a bounce."""
    return all(code >= 500 for code, _reply in refused.recipients.values())


def is_marketing_to_contact(message):
    """Marketing email to the contact itself: what unsubscribes, inactivity and the
    frequency cap are about (not email about the contact to someone else)."""
    return not message.to_email and message.email.kind == EmailKind.MARKETING


def cap_days(message):
    cap = message.frequency_cap_days
    return get_setting("MAIL_FREQUENCY_CAP_DAYS") if cap is None else cap


def last_marketing_sends(batch, now):
    """{contact id: when its last marketing email went}, within the longest cap in play."""
    longest = max((cap_days(message) for message in batch), default=0)
    if not longest:
        return {}
    rows = (OutboxMessage.objects.filter(
        contact__in={message.contact_id for message in batch}, status=Status.SENT,
        email__kind=EmailKind.MARKETING, to_email="", sent_at__gt=now - timedelta(days=longest))
        .values("contact").annotate(last=Max("sent_at")).values_list("contact", "last"))
    return dict(rows)


def retry_later(message, error, now=None):
    """A temporary failure (the server is down, a 4xx answer): back off exponentially; after
    MAIL_MAX_ATTEMPTS attempts the row is failed (and stays listed in the admin)."""
    now = now or timezone.now()
    attempts = message.attempts + 1
    if attempts >= get_setting("MAIL_MAX_ATTEMPTS"):
        release(message, status=Status.FAILED, attempts=attempts, last_error=str(error)[:1000])
        return "failed"
    delay = get_setting("MAIL_RETRY_SECONDS") * 2 ** (attempts - 1)
    release(message, status=Status.QUEUED, attempts=attempts, last_error=str(error)[:1000],
            send_after=now + timedelta(seconds=delay))
    return "retry"


def release(message, **fields):
    OutboxMessage.objects.filter(pk=message.pk).update(lease_until=None, **fields)
