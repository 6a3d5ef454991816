"""Who is looking: the contact of this browser, and what the browser may be shown of them.

A browser linked by a typed email only is unverified (see ``identity``): it records events
for its contact and sends its forms, but is shown nothing the contact said elsewhere.
"""

from ..models import Contact
from .models import ProfileSubmission


def linked_contact(request):
    """The contact this browser is linked to, verified or not, or None (anonymous, or not
    tracked): whose forms it sends."""
    context = getattr(request, "leadscore", None)
    return context.contact if context is not None else None


def known_contact(request):
    """The contact this browser is proven to belong to, or None: the person templates and
    forms may greet and show their answers to."""
    contact = linked_contact(request)
    return contact if contact is not None and contact.browser_verified else None


def known_answers(request):
    """What this browser may be shown of its person's answers, by question key: all the
    contact holds for a verified browser, only what it sent itself for an unverified one,
    nothing for an anonymous one."""
    contact = linked_contact(request)
    if contact is None:
        return {}
    if contact.browser_verified:
        return contact_answers(contact)
    sent = {}
    for answers in (ProfileSubmission.objects.filter(
            contact=contact, visitor_id=request.leadscore.known_visitor_id)
            .order_by("submitted_at").values_list("answers", flat=True)):
        sent.update(answers)
    return sent


def contact_answers(contact):
    """Everything ``contact`` answered, by question key (profile fields, facts, email)."""
    return {**contact.facts, **{field: getattr(contact, field)
                                for field in Contact.PROFILE_FIELDS}, "email": contact.email}


def mark_personalised(request):
    """This response depends on who asks: the tracking middleware marks it private and
    varying by cookie, so no shared cache serves it to someone else."""
    context = getattr(request, "leadscore", None)
    if context is not None:
        context.personalised = True
