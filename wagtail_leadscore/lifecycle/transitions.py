"""Stage transitions: each one is a ``stage_change`` event with who and why."""

from django.db import transaction
from django.utils import timezone

from ..conf import get_setting
from ..db import select_for_update
from ..events import record_event
from ..models import Contact
from ..scoring.aging import reset_stage_score
from ..scoring.models import GLOBAL, STAGE, Score
from ..scoring.sources import sources
from .stages import CONTACT_STAGES, QUALIFIABLE_STAGES, Stage


def change_stage(contact, stage, *, by=None, reason="", via="api"):
    """Move ``contact`` to ``stage``; returns the ``stage_change`` event, or None when the
    contact is in that stage already. ``by`` is the user who decided (None: the system).

    The stage score starts again at zero in the new stage."""
    if stage not in dict(CONTACT_STAGES):
        raise ValueError(f"{stage!r} is not a contact stage.")
    with transaction.atomic():
        locked = select_for_update(Contact.objects, no_key=True).get(pk=contact.pk)
        if locked.stage == stage:
            return None
        previous, now = locked.stage, timezone.now()
        Contact.objects.filter(pk=contact.pk).update(stage=stage, stage_changed_at=now)
        contact.stage, contact.stage_changed_at = stage, now
        reset_stage_score(contact.pk)
        return record_event("stage_change", contact=contact, name=stage, properties={
            "from": previous, "to": stage, "reason": str(reason)[:500], "via": via,
            "by": by.get_username() if by is not None else "",
            "by_id": by.pk if by is not None else None,
        })


def visitor_stage(visitor):
    """A visitor's stage: its contact's, or for an anonymous one "engaged" from
    ENGAGED_SCORE points on, else "anonymous"."""
    if visitor.contact_id is not None:
        return visitor.contact.stage
    score = Score.objects.filter(visitor=visitor, dimension=GLOBAL).values_list(
        "value", flat=True).first() or 0
    return Stage.ENGAGED if score >= get_setting("ENGAGED_SCORE") else Stage.ANONYMOUS


def engagement_score(contact):
    """The score the lead definition reads: the global score, or for a contact sent back
    to nurturing, the points earned since (its stage score)."""
    dimension = STAGE if contact.stage == Stage.NURTURE else GLOBAL
    return Score.objects.filter(contact=contact, dimension=dimension).values_list(
        "value", flat=True).first() or 0


def qualify(contact_or_id):
    """Make the contact a lead if it meets the lead definition: a ``stage_change`` and a
    ``lead_qualified`` event. Returns the latter, or None."""
    contact_id = getattr(contact_or_id, "pk", contact_or_id)
    with transaction.atomic():
        contact = select_for_update(Contact.objects, no_key=True).filter(pk=contact_id).first()
        if contact is None or contact.stage not in QUALIFIABLE_STAGES:
            return None
        criteria = sources.rules.lead
        score = engagement_score(contact)
        if criteria.missing(contact, score):
            return None
        change_stage(contact, Stage.LEAD, reason="lead definition met", via="lead_definition")
        return record_event("lead_qualified", contact=contact, properties={
            "score": score, "fit_score": contact.fit_score, "fit_grade": contact.fit_grade,
            "min_score": criteria.min_score,
        })


def qualify_candidates():
    """After an aging or a rebuild: every contact the definition may now make a lead."""
    threshold = sources.rules.lead.min_score
    candidates = Score.objects.filter(
        contact__stage__in=QUALIFIABLE_STAGES, value__gte=threshold,
        dimension__in=(GLOBAL, STAGE),
    ).values_list("contact_id", flat=True).distinct()
    return sum(qualify(contact_id) is not None for contact_id in list(candidates))
