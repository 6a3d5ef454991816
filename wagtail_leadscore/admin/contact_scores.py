"""The scoring part of a contact's admin page: its scores and the ledger lines that explain
them, so a marketer can answer "why does this contact have 1040 points?"."""

from django.utils.translation import gettext_lazy as _

from ..lifecycle.definition import LeadDefinition
from ..lifecycle.transitions import engagement_score
from ..scoring.engine import scores_for
from ..scoring.models import GLOBAL, STAGE, ScoreEntry, Topic

LEDGER_LENGTH = 100
TOPIC_PREFIX = "topic:"


def scoring_context(contact, request=None):
    entries = ScoreEntry.objects.filter(contact=contact)
    return {
        "scores": scores_for(contact),
        "lead_missing": LeadDefinition.load(request).snapshot().missing(
            contact, engagement_score(contact)),
        "ledger": readable_ledger(entries.order_by("-occurred_at", "-pk")[:LEDGER_LENGTH]),
        "ledger_count": entries.count(),
    }


def readable_ledger(entries):
    """The entries, each with a ``dimension_label`` naming the score it fed."""
    entries = list(entries)
    topics = Topic.objects.in_bulk({
        int(entry.dimension.removeprefix(TOPIC_PREFIX)) for entry in entries
        if entry.dimension.startswith(TOPIC_PREFIX)
    })
    for entry in entries:
        entry.dimension_label = dimension_label(entry.dimension, topics)
    return entries


def dimension_label(dimension, topics):
    if dimension == GLOBAL:
        return _("Global")
    if dimension == STAGE:
        return _("Stage")
    topic = topics.get(int(dimension.removeprefix(TOPIC_PREFIX)))
    return _("Topic: %(name)s") % {"name": topic.name if topic else _("(deleted)")}
