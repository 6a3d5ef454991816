"""Everything known about a lead, for the alert: facts, score and its top reasons, topic
scores, the last pages read, form answers, emails opened and clicked, offline events, a
link to the contact in the admin, and the signed accept and send-back links. Rendered per
message (the links sign the message), after merge fields are filled: nothing a visitor
typed is read as a merge field, and the templates escape it all."""

from django.template.loader import render_to_string
from django.urls import reverse

from ..mail.links import absolute, sign
from ..scoring.engine import scores_for
from ..scoring.models import GLOBAL, ScoreEntry

ACCEPT_SALT = "wagtail_leadscore.sales.accept"
SEND_BACK_SALT = "wagtail_leadscore.sales.send_back"
TOP_REASONS = 5
RECENT = 10


def dossier_context(contact):
    events = contact.events.order_by("-occurred_at", "-pk")
    facts = {name: getattr(contact, name) for name in contact.PROFILE_FIELDS
             if getattr(contact, name)}
    facts.update((str(key), value) for key, value in (contact.facts or {}).items())
    scores = scores_for(contact)
    return {
        "contact": contact,
        "facts": facts,
        "scores": scores,
        "reasons": (ScoreEntry.objects.filter(contact=contact, dimension=GLOBAL, counted=True)
                    .order_by("-points", "-occurred_at")[:TOP_REASONS]),
        "pages": events.filter(type="page_view").select_related("page")[:RECENT],
        "submissions": contact.profile_submissions.select_related("page").order_by(
            "-submitted_at")[:RECENT],
        # Progressive forms (on a page) are the submissions above; these come from the API.
        "forms": events.filter(type="form_submit", page__isnull=True)[:RECENT],
        "emails": events.filter(type__in=("email_open", "email_click"))[:RECENT],
        "offline": events.filter(type="offline")[:RECENT],
        "admin_url": contact_admin_url(contact),
    }


def contact_admin_url(contact):
    """The contact's page in the admin, as a full URL for emails."""
    return absolute(reverse("leadscore_contacts:inspect", args=[contact.pk]))


def decision_urls(message):
    return {
        "accept_url": absolute(reverse("wagtail_leadscore:sales_accept",
                                       args=[sign(ACCEPT_SALT, message.pk)])),
        "send_back_url": absolute(reverse("wagtail_leadscore:sales_send_back",
                                          args=[sign(SEND_BACK_SALT, message.pk)])),
    }


def render_dossier(message):
    """(HTML, text) of the dossier of ``message``'s contact, with its decision links."""
    context = {**dossier_context(message.contact), **decision_urls(message)}
    return (render_to_string("wagtail_leadscore/sales/dossier.html", context),
            render_to_string("wagtail_leadscore/sales/dossier.txt", context))
