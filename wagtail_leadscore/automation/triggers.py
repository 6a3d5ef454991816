"""What an automation rule reacts to. The event triggers of scoring keep their meaning here
(one definition of "form submitted", "URL contains", ...); automation adds the events the
system records (a stage changed, a segment entered or left, a lead qualified, a score
reached). Other apps add triggers with the ``register_leadscore_automation_triggers`` hook,
returning :class:`~wagtail_leadscore.scoring.triggers.Trigger` objects."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from ..scoring.triggers import TRIGGERS as SCORING_TRIGGERS
from ..scoring.triggers import Trigger, named

# Scoring's event triggers that read only the event (not page trees): reused as they are.
REUSED = ("form_submitted", "form_answer", "download", "email_open", "email_click",
          "custom_event", "offline_event", "url_exact", "url_words", "url_contains",
          "url_regex")


class NumberTrigger(Trigger):
    """A trigger whose value is a whole number (points, an amount)."""

    def validate(self, rule):
        digits = (rule.value or "").strip().lstrip("-")
        if not (digits.isascii() and digits.isdigit()):  # "²" is a digit, not a number
            return {"value": _("Give a whole number.")}
        return {}


def purchase_at_least(rule):
    """A purchase whose amount is the rule's value or more."""
    minimum = int(rule.value)

    def matches(event, page_path):
        amount = (event.properties or {}).get("amount")
        return isinstance(amount, (int, float)) and not isinstance(amount, bool) and (
            amount >= minimum)

    return matches


class EventOfTypeTrigger(Trigger):
    """Any event type, built-in or registered with the hook: the value is the type, or
    "type:name" for events of that name only (``webinar_attended``, ``offline:trade-fair``)."""

    def event_type_of(self, rule):
        return (rule.value or "").strip().partition(":")[0].strip()

    def validate(self, rule):
        from ..events import event_types

        event_type = self.event_type_of(rule)
        if event_type not in event_types:
            return {"value": _("Give a registered event type (e.g. offline or "
                               "offline:trade-fair); %(type)r is none.") % {
                                   "type": event_type}}
        return {}


def event_named(rule):
    """Events of the rule's type (the index asks), of the name after the colon if given."""
    wanted = (rule.value or "").partition(":")[2].strip().lower()
    if not wanted:
        return lambda event, page_path: True
    return lambda event, page_path: event.name.lower() == wanted


def score_reached(rule):
    """The points this event added carried the global score to the rule's value or above
    (from what scoring left on the event: no query)."""
    from ..scoring.engine import crossed
    from ..scoring.models import GLOBAL

    threshold = int(rule.value)

    def matches(event, page_path):
        return crossed(getattr(event, "leadscore_scores", {}),
                       getattr(event, "leadscore_deltas", {}), GLOBAL, threshold)

    return matches


BUILTIN = (
    *(SCORING_TRIGGERS[key] for key in REUSED),
    EventOfTypeTrigger("event_of_type", _("An event of the type given (type, or type:name)"),
                       "", "required", event_named),
    Trigger("stage_changed", _("Stage changed (to any, or to the stage named)"),
            "stage_change", "optional", named("to")),
    Trigger("segment_entered", _("Segment entered (any, or the one whose slug is given)"),
            "segment_entered", "optional", named()),
    Trigger("segment_left", _("Segment left (any, or the one whose slug is given)"),
            "segment_left", "optional", named()),
    Trigger("lead_qualified", _("Became a lead"), "lead_qualified", "", named()),
    NumberTrigger("score_reached", _("Global score reached the value"), "", "required",
                  score_reached),
    NumberTrigger("purchase_at_least", _("Purchase of at least the amount"), "purchase",
                  "required", purchase_at_least),
    Trigger("unsubscribed", _("Unsubscribed from marketing email"), "unsubscribed", "",
            named()),
    Trigger("tag_added", _("Tag added (any, or the one named)"), "tag_added", "optional",
            named()),
)


def automation_triggers():
    """{key: Trigger or TimeTrigger}: the built-in ones, then the hook's."""
    from .timers import TIME_TRIGGERS

    found = {trigger.key: trigger for trigger in (*BUILTIN, *TIME_TRIGGERS)}
    for hook in hooks.get_hooks("register_leadscore_automation_triggers"):
        found.update((trigger.key, trigger) for trigger in hook())
    return found


def automation_trigger_choices():
    return [(key, trigger.label) for key, trigger in automation_triggers().items()]


def validate_trigger(rule):
    """Field errors of ``rule``'s trigger and value, as a dict."""
    trigger = automation_triggers().get(rule.trigger)
    if trigger is None:
        return {"trigger": _("Unknown trigger.")}
    return trigger.validate(rule)
