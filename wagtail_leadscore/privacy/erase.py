"""Erasure (GDPR art. 17): a contact's personal data goes from every table of the plugin,
its anonymous traces stay, so the funnel and page reports still add up.

- the contact, its browsers (visitor rows), form submissions (answers, consent wording),
  Wagtail's copies of those sent through form-builder pages, outbox rows (addresses,
  links), scores, ledger, memberships, enrolments and automation runs are deleted;
- its events stay, detached from any person (no contact, no visitor, no dedupe key: an
  import's is a hash of the address, an API's the CRM's id). Their free text (name, path,
  query string, referrer, properties) keeps its shape with the person's identifiers
  replaced (``privacy.identifiers``): "Meeting with […]", ``/crm/[…]``; the answers of a
  form keep their questions, not what was typed;
- webhook calls about the contact or its browsers keep their status and event type, not
  the payload; those not made yet are not made;
- Wagtail's own history of the contact (its labels name the person) is deleted;
- one ``PrivacyLogEntry`` records who erased which contact id, with the counts.

A browser that comes back with the old cookie is a new anonymous visitor.
"""

from django.db import transaction
from django.db.models import Q
from wagtail.models import ModelLogEntry

from ..models import Contact, Event, PrivacyLogEntry, Visitor
from ..profiling.pages import FORM_BUILDER_TOKEN
from ..webhooks.models import DeliveryStatus
from .deliveries import deliveries_about
from .identifiers import MASK, identifier_pattern, scrub

FREE_TEXT_COLUMNS = ("name", "path", "query", "referrer", "properties")
BATCH_SIZE = 1000


def erase_contact(contact, *, user=None, via="python"):
    """Erase ``contact`` (see the module); returns the audit entry."""
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        visitor_ids = list(contact.visitors.values_list("pk", flat=True))
        events = Event.objects.filter(Q(contact=contact) | Q(visitor__in=visitor_ids))
        details = {
            "events_scrubbed": scrub_events(events, identifier_pattern(contact)),
            "events_kept_anonymous": events.update(contact=None, visitor=None,
                                                   dedupe_key=None),
            "webhook_payloads_erased": erase_webhook_payloads(contact, visitor_ids),
            "browsers": len(visitor_ids),
            "form_submissions": contact.profile_submissions.count(),
            "form_builder_submissions": erase_form_builder_submissions(contact),
            "emails": contact.outbox_messages.count(),
        }
        ModelLogEntry.objects.for_instance(contact).delete()
        Visitor.objects.filter(pk__in=visitor_ids).delete()
        contact_id = contact.pk
        contact.delete()
        return PrivacyLogEntry.objects.create(
            action=PrivacyLogEntry.Action.ERASE, contact_id=contact_id, user=user, via=via,
            details=details)


def scrub_events(events, pattern):
    """Replace the person's identifiers in the free text of ``events``, and what they
    typed into forms; how many events changed."""
    changed = []
    for event in events.only(*FREE_TEXT_COLUMNS).iterator(chunk_size=BATCH_SIZE):
        before = [getattr(event, column) for column in FREE_TEXT_COLUMNS]
        event.properties = without_answers(event.properties)
        if pattern is not None:
            for column in FREE_TEXT_COLUMNS:
                setattr(event, column, scrub(getattr(event, column), pattern))
        if [getattr(event, column) for column in FREE_TEXT_COLUMNS] != before:
            changed.append(event)
    Event.objects.bulk_update(changed, FREE_TEXT_COLUMNS, batch_size=BATCH_SIZE)
    return len(changed)


def without_answers(properties):
    """A form's ``answers`` keep their questions (what reports and rules count), not what
    was typed."""
    if isinstance(properties, dict) and isinstance(properties.get("answers"), dict):
        return {**properties, "answers": dict.fromkeys(properties["answers"], MASK)}
    return properties


def erase_webhook_payloads(contact, visitor_ids):
    """Blank the payloads (and errors, which may quote them) of the calls about
    ``contact`` or its browsers, and give up those not made yet; how many."""
    about_them = deliveries_about(contact, visitor_ids)
    erased = {"payload": {"erased": True}}
    return (about_them.exclude(status=DeliveryStatus.QUEUED).update(**erased, last_error="")
            + about_them.filter(status=DeliveryStatus.QUEUED).update(
                **erased, status=DeliveryStatus.FAILED,
                last_error="Not sent: its contact was erased."))


def erase_form_builder_submissions(contact):
    """Delete Wagtail's own copies of what the person sent through form-builder pages
    (each page's submission class); how many."""
    erased = 0
    submissions = contact.profile_submissions.filter(
        token__startswith=FORM_BUILDER_TOKEN, page__isnull=False).select_related("page")
    by_page = {}
    for submission in submissions:
        by_page.setdefault(submission.page, []).append(
            submission.token.removeprefix(FORM_BUILDER_TOKEN))
    for page, ids in by_page.items():
        page = page.specific
        if hasattr(page, "get_submission_class"):
            erased += page.get_submission_class().objects.filter(page=page, pk__in=ids).delete()[0]
    return erased
