"""The instant alert: when a contact becomes a lead, an email with its dossier goes to its
owner (given one from the owner group in turns if it has none), else to the team
addresses. Queued in the outbox, keyed by the lead_qualified event: sent once."""

import json

from django.utils.translation import gettext as _

from ..lifecycle.owners import assign_owner, next_in_turn
from ..mail.models import Email, EmailKind
from ..mail.outbox import enqueue
from .models import SalesHandoff

ALERT_SLUG = "leadscore-lead-alert"


def alert_email():
    """The alert's Email snippet, created on first use: editors may reword it, and keep
    its "Lead summary" block (the dossier, with the accept and send-back links)."""
    email, _created = Email.objects.get_or_create(slug=ALERT_SLUG, defaults={
        "name": _("Lead alert"), "kind": EmailKind.TRANSACTIONAL,
        "subject": _("New lead: {{ email }} ({{ company | company unknown }})"),
        "body": json.dumps([
            {"type": "paragraph", "value": _(
                "<p>A contact has just become a lead. Everything we know is below; accept "
                "the lead or send it back to nurturing with one click.</p>")},
            {"type": "lead_summary", "value": None}]),
    })
    return email


def alert_recipients(contact, handoff):
    if contact.owner_id is None and handoff.owner_group_id is not None:
        owner = next_in_turn(handoff.owner_group)
        if owner is not None:
            assign_owner(contact, owner, reason=_("lead alert, in turns"), via="lead_alert")
    if contact.owner_id is not None and contact.owner.email:
        return [contact.owner.email]
    return handoff.team_addresses()


def alert_on_lead(sender, event, **kwargs):
    """``event_recorded`` receiver (after automation: a rule may have given an owner)."""
    if event.type != "lead_qualified" or event.contact_id is None:
        return
    handoff = SalesHandoff.load()
    if not handoff.alert_enabled:
        return
    contact = event.contact
    email = alert_email()
    for number, address in enumerate(alert_recipients(contact, handoff)):
        enqueue(contact, email, f"lead-alert:{event.pk}:{number}", source="lead_alert",
                to_email=address)
