"""Who in sales owns a contact: a user, or the members of a group in turns. Each
assignment is an ``owner_assigned`` event."""

from django.contrib.auth import get_user_model
from django.db.models import F, Max
from django.utils import timezone

from ..events import record_event
from ..models import Contact


def assign_owner(contact, user, *, reason="", via="api"):
    """Make ``user`` the owner of ``contact``; returns the ``owner_assigned`` event, or
    None when the contact has that owner already."""
    if contact.owner_id == user.pk:
        return None
    now = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(owner=user, owner_assigned_at=now)
    contact.owner, contact.owner_assigned_at = user, now
    return record_event("owner_assigned", contact=contact, name=user.get_username(),
                        properties={"owner_id": user.pk, "reason": str(reason)[:500],
                                    "via": via})


def next_in_turn(group):
    """The active member of ``group`` who got a contact least recently (never first; then
    by id): a round robin that needs no counter and survives members joining or leaving."""
    return (get_user_model().objects.filter(groups=group, is_active=True)
            .annotate(last_assigned=Max("leadscore_contacts__owner_assigned_at"))
            .order_by(F("last_assigned").asc(nulls_first=True), "pk").first())
