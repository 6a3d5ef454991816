"""Erasure (GDPR art. 17): a contact's personal data goes from every table of the plugin,
its anonymous traces stay, so the funnel and page reports still add up.

- the contact, its browsers (visitor rows), form submissions (answers, consent wording),
  outbox rows (addresses, links), scores, ledger, memberships, enrolments and automation
  runs are deleted;
- its events stay, detached from any person: no contact, no visitor, and no properties,
  query string, referrer (where a visitor's typing can hide) or dedupe key (an import's
  is a hash of the address); type, page, path and time remain, which the reports count;
- webhook deliveries that carried the contact keep their status and event type, not the
  payload;
- Wagtail's own history of the contact (its labels name the person) is deleted;
- one ``PrivacyLogEntry`` records who erased which contact id, with the counts.

A browser that comes back with the old cookie is a new anonymous visitor.
"""

from django.db import transaction
from django.db.models import Q
from wagtail.models import ModelLogEntry

from ..models import Contact, Event, PrivacyLogEntry, Visitor
from ..webhooks.models import WebhookDelivery


def erase_contact(contact, *, user=None, via="python"):
    """Erase ``contact`` (see the module); returns the audit entry."""
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        visitor_ids = list(contact.visitors.values_list("pk", flat=True))
        events = Event.objects.filter(Q(contact=contact) | Q(visitor__in=visitor_ids))
        details = {
            "events_kept_anonymous": events.update(
                contact=None, visitor=None, properties={}, query="", referrer="",
                dedupe_key=None),
            "webhook_payloads_erased": erase_webhook_payloads(contact),
            "browsers": len(visitor_ids),
            "form_submissions": contact.profile_submissions.count(),
            "emails": contact.outbox_messages.count(),
        }
        ModelLogEntry.objects.for_instance(contact).delete()
        Visitor.objects.filter(pk__in=visitor_ids).delete()
        contact_id = contact.pk
        contact.delete()
        return PrivacyLogEntry.objects.create(
            action=PrivacyLogEntry.Action.ERASE, contact_id=contact_id, user=user, via=via,
            details=details)


def erase_webhook_payloads(contact):
    """Blank the payloads (and errors, which may quote them) of the calls about
    ``contact``; how many."""
    return WebhookDelivery.objects.filter(payload__data__contact__id=contact.pk).update(
        payload={"erased": True}, last_error="")
