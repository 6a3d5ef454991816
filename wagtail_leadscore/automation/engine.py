"""Running the rules: an ``event_recorded`` receiver (after scoring and segments) finds the
rules whose trigger the event fires (indexed per event type, cached per process), asks
their conditions of the contact in one query, and runs their actions; a wait pauses a run
until the ``resume_automations`` task picks it up. Only contacts run rules: an anonymous
visitor's events wait until it identifies (its history becomes the contact's)."""

import logging
from contextvars import ContextVar
from datetime import timedelta

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from ..caching import ProcessCache
from ..db import claim_due, savepoint_if_in_transaction
from ..segments.compiler import conditions_q
from ..segments.conditions import Scope
from ..segments.models import apply_conditions_once
from .actions import Pause
from .models import AutomationRule, AutomationRun, Repeat, RunStatus
from .timers import TimeTrigger
from .triggers import automation_triggers

logger = logging.getLogger(__name__)

# Actions record events (a stage change...) that may fire rules again: this deep at most.
MAX_DEPTH = 5
# A running run holds this lease: should its process die, resume_due takes it over then.
# Its actions are idempotent (outbox keys, tags, stages), so doing one again is harmless.
RUN_LEASE = timedelta(minutes=10)
_depth = ContextVar("leadscore_automation_depth", default=0)


class ActiveRules:
    """The active rules with their compiled matchers, by the event type that fires them
    ("" for any type), loaded once per process and again after an edit (or after
    SCORING_CACHE_SECONDS, for edits made by another process)."""

    def __init__(self):
        self._by_type = ProcessCache(self._load)

    def for_event(self, event):
        by_type = self._by_type.get()
        return by_type.get(event.type, []) + by_type.get("", [])

    def clear(self, **kwargs):
        self._by_type.clear()

    def _load(self):
        triggers = automation_triggers()
        by_type = {}
        for rule in AutomationRule.objects.filter(is_active=True).order_by("pk"):
            trigger = triggers.get(rule.trigger)
            if isinstance(trigger, TimeTrigger):
                continue  # fired by fire_time_triggers, not by events
            if trigger is None:
                logger.warning("Automation rule %s has an unknown trigger %r.", rule.pk,
                               rule.trigger)
                continue
            by_type.setdefault(trigger.event_type_of(rule), []).append(
                (rule, trigger.compile(rule)))
        return by_type


active_rules = ActiveRules()


def run_rules(sender, event, **kwargs):
    """``event_recorded`` receiver: start the runs of the rules ``event`` fires."""
    if event.contact_id is None:
        return
    rules = active_rules.for_event(event)
    if not rules:
        return
    if _depth.get() >= MAX_DEPTH:
        logger.warning("Automation stopped at depth %d (event %s): rules fire each other.",
                       MAX_DEPTH, event.pk)
        return
    from ..scoring.sources import sources

    token = _depth.set(_depth.get() + 1)
    try:
        for rule, matches in rules:
            if matches(event, sources.page_path):
                start_run(rule, event)
    finally:
        _depth.reset(token)


def start_run(rule, event=None, *, contact_id=None, occurrence=""):
    """Run ``rule`` for the event's contact (or ``contact_id``, for a time trigger's
    ``occurrence``): once per event or occurrence, and once per contact for a rule that
    runs once. A failure is logged and kept on the run; never raised."""
    contact_id = event.contact_id if event is not None else contact_id
    if not AutomationRule.objects.filter(pk=rule.pk, is_active=True).exists():
        active_rules.clear()  # edited or deleted by another process since it was cached
        return None
    if rule.repeat == Repeat.ONCE and AutomationRun.objects.filter(
            rule=rule, contact_id=contact_id).exists():
        return None
    try:
        with savepoint_if_in_transaction():
            run = AutomationRun.objects.create(rule=rule, contact_id=contact_id, event=event,
                                               occurrence=occurrence,
                                               resume_at=timezone.now() + RUN_LEASE)
    except IntegrityError:  # this event or occurrence started this rule already
        return None
    run.rule = rule
    if not conditions_hold(rule, contact_id):
        save_run(run, status=RunStatus.SKIPPED, resume_at=None)
        return run
    continue_run(run)
    return run


def conditions_hold(rule, contact_id, now=None):
    """The rule's conditions for one contact: one query (none: they hold)."""
    from ..models import Contact

    if not rule.conditions:
        return True
    scope = Scope("contact", now or timezone.now(), contact_id)
    return Contact.objects.filter(pk=contact_id).filter(
        conditions_q(rule.match, rule.conditions, scope)).exists()


def probe_conditions(rule):
    """Apply the conditions once, as segments do: a form error, not a failing run."""
    if rule.conditions:
        apply_conditions_once(lambda: conditions_hold(rule, 0))


def continue_run(run):
    """Run the actions from ``run.next_action`` on, until the end or a wait."""
    actions = list(run.rule.actions)
    for position in range(run.next_action, len(actions)):
        child = actions[position]
        try:
            with savepoint_if_in_transaction():
                child.block.run(child.value, run, position)
        except Pause as pause:
            save_run(run, status=RunStatus.WAITING, next_action=position + 1,
                     resume_at=pause.until)
            return
        except Exception as error:  # noqa: BLE001 - kept on the run, shown in the admin
            logger.exception("Automation rule %s failed for contact %s.", run.rule_id,
                             run.contact_id)
            save_run(run, status=RunStatus.FAILED, next_action=position, resume_at=None,
                     error=f"{child.block_type}: {error}"[:1000])
            return
    save_run(run, status=RunStatus.DONE, next_action=len(actions), resume_at=None)


def save_run(run, **fields):
    for name, value in fields.items():
        setattr(run, name, value)
    AutomationRun.objects.filter(pk=run.pk).update(updated_at=timezone.now(), **fields)


def resume_due(now=None):
    """The ``resume_automations`` task: continue the runs whose wait is over, and the runs
    whose process died (their lease ran out); claimed with SKIP LOCKED on PostgreSQL, so
    two workers never continue the same run."""
    now = now or timezone.now()
    due = (Q(status=RunStatus.WAITING, resume_at__lte=now)
           | Q(status=RunStatus.RUNNING, resume_at__lt=now))
    ids = claim_due(AutomationRun, due, ("resume_at", "pk"), None, status=RunStatus.RUNNING,
                    resume_at=now + RUN_LEASE)
    runs = AutomationRun.objects.filter(pk__in=ids).select_related("rule", "contact")
    for run in runs.order_by("resume_at", "pk"):
        continue_run(run)
    return len(ids)


def fire_time_triggers(now=None):
    """The ``fire_time_triggers`` task: run the rules that time fires, once per contact and
    occurrence; returns how many runs started."""
    now = now or timezone.now()
    triggers = automation_triggers()
    started = 0
    for rule in AutomationRule.objects.filter(is_active=True).order_by("pk"):
        trigger = triggers.get(rule.trigger)
        if not isinstance(trigger, TimeTrigger):
            continue
        seen = set(AutomationRun.objects.filter(rule=rule).exclude(occurrence="")
                   .values_list("contact_id", "occurrence"))
        for contact_id, occurrence in trigger.scan(rule, now):
            if (contact_id, occurrence) not in seen:
                started += start_run(rule, contact_id=contact_id,
                                     occurrence=occurrence) is not None
    return started


def record_added_tags(sender, instance, action, reverse, pk_set, **kwargs):
    """``m2m_changed`` of a contact's tags: each tag added is a ``tag_added`` event (named
    by the tag), which rules can react to."""
    from taggit.models import Tag

    from ..events import record_event

    if action != "post_add" or reverse or not pk_set:
        return
    for name in Tag.objects.filter(pk__in=pk_set).values_list("name", flat=True):
        record_event("tag_added", contact=instance, name=name)
