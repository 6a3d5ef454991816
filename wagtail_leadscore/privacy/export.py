"""Everything the plugin holds about one contact, as one JSON document: the answer to a
data subject's access request (GDPR art. 15), and a copy they can take along (art. 20)."""

from django.forms.models import model_to_dict
from django.utils import timezone

from ..models import PrivacyLogEntry
from ..scoring.engine import scores_for

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
            "page__title", "answers", "consent_text", "submitted_at")),
        "segments": list(contact.segment_memberships.values("segment__name", "entered_at")),
        "sequences": list(contact.enrolments.values(
            "sequence__name", "status", "enrolled_at", "ended_at")),
        "emails": list(contact.outbox_messages.order_by("created_at").values(
            "email__subject", "to_email", "status", "created_at", "sent_at")),
    }
