"""Everything the plugin holds about one contact, as one JSON document: the answer to a
data subject's access request (GDPR art. 15), and a copy they can take along (art. 20)."""

from urllib.parse import urlsplit

from django.forms.models import model_to_dict
from django.utils import timezone

from ..models import PrivacyLogEntry
from ..scoring.engine import scores_for
from ..scoring.models import ScoreEntry, Topic, topic_dimension
from .deliveries import deliveries_about

EXPORT_FORMAT = 1


def contact_export(contact, *, user=None, via="python"):
    """A JSON-serialisable dict (with DjangoJSONEncoder: dates as ISO 8601); the export is
    written to the privacy log."""
    PrivacyLogEntry.objects.create(action=PrivacyLogEntry.Action.EXPORT,
                                   contact_id=contact.pk, user=user, via=via)
    fields = model_to_dict(contact, exclude=["tags", "owner", "account"])
    scores = scores_for(contact)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now(),
        "contact": {**fields, "created_at": contact.created_at,
                    "stage_changed_at": contact.stage_changed_at,
                    "unsubscribed_at": contact.unsubscribed_at,
                    "bounced_at": contact.bounced_at,
                    "tracking_objected_at": contact.tracking_objected_at,
                    "tags": sorted(contact.tags.names()),
                    "company_account": contact.account.name if contact.account else None},
        "scores": {"global": scores["global"],
                   "topics": {topic.name: value for topic, value in scores["topics"].items()}},
        "browsers": list(contact.visitors.values(
            "id", "first_seen", "last_seen", "user_agent", "device", "browser", "os")),
        "events": list(contact.events.order_by("occurred_at", "pk").values(
            "type", "name", "path", "query", "referrer", "properties", "occurred_at")),
        "consents": list(contact.consents.order_by("given_at").values(
            "wording", "version", "source", "given_at")),
        "form_submissions": list(contact.profile_submissions.order_by("submitted_at").values(
            "page__title", "answers", "unconfirmed", "consent_text", "submitted_at")),
        "segments": list(contact.segment_memberships.values("segment__name", "entered_at")),
        "sequences": list(contact.enrolments.values(
            "sequence__name", "status", "enrolled_at", "ended_at")),
        "emails": list(contact.outbox_messages.order_by("created_at").values(
            "email__subject", "to_email", "status", "created_at", "sent_at")),
        "owner": owner(contact),
        "ledger": ledger(contact),
        "automation_runs": automation_runs(contact),
        "webhook_calls": webhook_calls(contact),
    }


def owner(contact):
    """Who in sales looks after the person, by name, and since when."""
    if contact.owner_id is None:
        return None
    return {"name": contact.owner.get_full_name() or contact.owner.get_username(),
            "since": contact.owner_assigned_at}


def automation_runs(contact):
    """The automation rules that acted on the person."""
    return [{"rule": run["rule__name"], "status": run["status"], "started_at": run["created_at"],
             "updated_at": run["updated_at"]}
            for run in contact.automation_runs.order_by("created_at", "pk").values(
                "rule__name", "status", "created_at", "updated_at")]


def ledger(contact):
    """Every point the person earned or lost, with its reason, per score."""
    names = {topic_dimension(pk): name for pk, name in Topic.objects.values_list("pk", "name")}
    return [{"occurred_at": entry["occurred_at"],
             "score": names.get(entry["dimension"], entry["dimension"]),
             "reason": entry["label"], "points": entry["points"], "counts": entry["counted"]}
            for entry in ScoreEntry.objects.filter(contact=contact).order_by(
                "occurred_at", "pk").values("occurred_at", "dimension", "label", "points",
                                            "counted")]


def webhook_calls(contact):
    """The calls that sent the person's data to another system: to whom (the webhook's name
    and host: a URL's path and query often hold the receiver's secret), what and when."""
    deliveries = deliveries_about(contact, contact.visitors.values_list("pk", flat=True))
    deliveries = deliveries.select_related("webhook").order_by("created_at", "pk")
    return [{"webhook": delivery.webhook.name, "endpoint": endpoint(delivery.webhook.url),
             "event": delivery.event, "created_at": delivery.created_at,
             "status": delivery.status, "attempts": delivery.attempts,
             "response_status": delivery.response_status,
             "delivered_at": delivery.delivered_at, "payload": delivery.payload}
            for delivery in deliveries]


def endpoint(url):
    """``https://host[:port]`` of ``url``: no credentials, path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
