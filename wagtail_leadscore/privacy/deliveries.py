"""The webhook calls about a person: what was sent of them to other systems, which an
export lists and an erasure blanks."""

from django.db.models import Q

from ..webhooks.models import WebhookDelivery


def deliveries_about(contact, visitor_ids):
    """The calls whose payload is about ``contact`` or one of its browsers (an event of
    theirs before they were known)."""
    return WebhookDelivery.objects.filter(
        Q(payload__data__contact__id=contact.pk)
        | Q(payload__data__visitor__in=[str(pk) for pk in visitor_ids]))
