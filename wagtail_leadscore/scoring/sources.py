"""Where points come from: tagged pages and scoring rules, compiled to :class:`Source`.

The hot path reads them from per-process caches: a page's tagging is keyed by its last
publication, so an edit counts from the next view; rules and the lead definition are kept
for SCORING_CACHE_SECONDS (and reloaded at once in the process that saved them).
"""

import time
from dataclasses import dataclass

from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext as _

from ..conf import get_setting
from .models import GLOBAL, STAGE, Cap, ScoringRule, topic_dimension
from .pages import LeadScoringPageMixin, PageCap
from .triggers import TRIGGERS


@dataclass(frozen=True)
class Source:
    """One page or rule: its points, the dimensions it feeds, its cap and bonus."""

    key: str
    label: str
    points: int
    dimensions: tuple
    cap: str = Cap.NONE
    cap_count: int = 1
    cap_period_days: int = 1
    bonus_occurrence: int | None = None
    bonus_points: int = 0
    bonus_label: str = ""
    rule_id: int | None = None
    page_id: int | None = None


def bonus_label(label, occurrence):
    if not occurrence:
        return ""
    return _("%(reason)s: bonus for time number %(number)s") % {"reason": label,
                                                                "number": occurrence}


def page_source(page, topic_ids):
    cap = {PageCap.ONCE: Cap.ONCE, PageCap.DAILY: Cap.PER_PERIOD}.get(page.leadscore_cap,
                                                                       Cap.NONE)
    label = _("Viewed “%(title)s”") % {"title": page.title}
    return Source(
        key=f"page:{page.pk}",
        label=label,
        points=page.leadscore_points,
        dimensions=(GLOBAL, *(topic_dimension(pk) for pk in sorted(topic_ids)), STAGE),
        cap=cap,
        bonus_occurrence=page.leadscore_bonus_visit,
        bonus_points=page.leadscore_bonus_points if page.leadscore_bonus_visit else 0,
        bonus_label=bonus_label(label, page.leadscore_bonus_visit),
        page_id=page.pk,
    )


def rule_source(rule, topic_ids):
    dimensions = (*((GLOBAL,) if rule.feeds_global else ()),
                  *(topic_dimension(pk) for pk in sorted(topic_ids)),
                  *((STAGE,) if rule.feeds_stage else ()))
    label = _("Rule “%(name)s”") % {"name": rule.name}
    return Source(
        key=f"rule:{rule.pk}",
        label=label,
        points=rule.points,
        dimensions=dimensions,
        cap=rule.cap,
        cap_count=rule.cap_count,
        cap_period_days=rule.cap_period_days,
        bonus_occurrence=rule.bonus_occurrence,
        bonus_points=rule.bonus_points if rule.bonus_occurrence else 0,
        bonus_label=bonus_label(label, rule.bonus_occurrence),
        rule_id=rule.pk,
    )


MAX_AWARDED_POINTS = 10_000


def awarded_source(event):
    """The points a ``points_awarded`` event carries (an automation rule's "add points"):
    a source of its own, so a rebuild of the scores awards them again. None for other
    events and for properties that name no whole number of points."""
    if event.type != "points_awarded":
        return None
    properties = event.properties or {}
    points = properties.get("points")
    if isinstance(points, bool) or not isinstance(points, int) or not points:
        return None
    points = max(-MAX_AWARDED_POINTS, min(MAX_AWARDED_POINTS, points))
    reason = str(properties.get("reason") or "")[:200]
    return Source(
        key=f"awarded:{event.name}"[:40],
        label=_("Awarded by “%(reason)s”") % {"reason": reason} if reason else _("Awarded"),
        points=points,
        dimensions=(GLOBAL, STAGE) if properties.get("stage") else (GLOBAL,),
    )


def is_scored(page):
    return isinstance(page, LeadScoringPageMixin) and bool(
        page.leadscore_points or page.leadscore_bonus_visit
    )


class PageSources:
    """page id -> Source (or None for an untagged page), per process."""

    def __init__(self):
        self._entries = {}

    def for_page(self, page):
        """From a loaded (specific) page: a query for its topics only on its first view
        after a publication."""
        if not isinstance(page, LeadScoringPageMixin):
            return None
        stamp = (page.last_published_at, page.live_revision_id)
        cached = self._entries.get(page.pk)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        source = None
        if is_scored(page):
            source = page_source(page, page.leadscore_topics.values_list("pk", flat=True))
        self._entries[page.pk] = (stamp, source)
        return source

    def for_page_id(self, page_id):
        """For events that name a page only (beacons): loads it when not cached lately."""
        cached = self._entries.get(page_id)
        max_age = get_setting("SCORING_CACHE_SECONDS")
        if cached is not None and (cached[0] != "loaded"
                                   or time.monotonic() - cached[2] < max_age):
            return cached[1]
        from wagtail.models import Page

        page = Page.objects.filter(pk=page_id).first()
        page = page.specific if page is not None else None
        source = None
        if page is not None and is_scored(page):
            source = page_source(page, page.leadscore_topics.values_list("pk", flat=True))
        self._entries[page_id] = ("loaded", source, time.monotonic())
        return source

    def forget(self, page_id=None):
        if page_id is None:
            self._entries.clear()
        else:
            self._entries.pop(page_id, None)


@dataclass
class RuleSet:
    """The active rules compiled per event type, and the lead definition, as of loaded_at."""

    by_event_type: dict
    lead: object
    loaded_at: float

    @classmethod
    def load(cls):
        from ..lifecycle.definition import LeadDefinition

        by_event_type = {}
        rules = ScoringRule.objects.filter(is_active=True).select_related("page") \
            .prefetch_related("topics")
        for rule in rules:
            trigger = TRIGGERS.get(rule.trigger)
            if trigger is None or trigger.validate(rule):
                continue  # a rule the admin form would refuse (e.g. saved by code)
            source = rule_source(rule, [topic.pk for topic in rule.topics.all()])
            by_event_type.setdefault(trigger.event_type, []).append(
                (source, trigger.compile(rule)))
        return cls(by_event_type, LeadDefinition.load().snapshot(), time.monotonic())


class Sources:
    def __init__(self):
        self.pages = PageSources()
        self._rules = None
        self._page_paths = {}

    @property
    def rules(self):
        max_age = get_setting("SCORING_CACHE_SECONDS")
        if self._rules is None or time.monotonic() - self._rules.loaded_at >= max_age:
            self._rules = RuleSet.load()
            self._page_paths.clear()
        return self._rules

    def page_path(self, page_id):
        if page_id not in self._page_paths:
            from wagtail.models import Page

            self._page_paths[page_id] = Page.objects.filter(pk=page_id).values_list(
                "path", flat=True).first()
        return self._page_paths[page_id]

    def matching(self, event, page=None):
        """The sources ``event`` earns points from: its page's tagging, then the rules."""
        matched = []
        if event.type == "page_view" and event.page_id is not None:
            source = (self.pages.for_page(page) if page is not None
                      else self.pages.for_page_id(event.page_id))
            if source is not None:
                matched.append(source)
        awarded = awarded_source(event)
        if awarded is not None:
            matched.append(awarded)
        rules = self.rules.by_event_type.get(event.type)
        if rules:
            def page_path(page_id):
                if page is not None and page.pk == page_id:
                    return page.path
                return self.page_path(page_id)

            matched.extend(source for source, matches in rules if matches(event, page_path))
        return matched

    def feeds_stage(self, source_key):
        """Whether the page or rule named ``source_key`` feeds the stage score now."""
        kind, _, pk = source_key.partition(":")
        if kind == "page":
            source = self.pages.for_page_id(int(pk))
        else:
            source = next((source for rules in self.rules.by_event_type.values()
                           for source, _ in rules if source.key == source_key), None)
        return source is not None and STAGE in source.dimensions

    def clear(self):
        self.pages.forget()
        self._rules = None
        self._page_paths.clear()


sources = Sources()


def _forget_rules(sender, **kwargs):
    sources.clear()


def _forget_page(sender, instance, **kwargs):
    sources.pages.forget(instance.pk)


def connect_signals():
    from ..lifecycle.definition import LeadDefinition
    from .models import Topic

    for model in (ScoringRule, Topic, LeadDefinition):
        post_save.connect(_forget_rules, sender=model, dispatch_uid=f"leadscore_{model.__name__}")
        post_delete.connect(_forget_rules, sender=model,
                            dispatch_uid=f"leadscore_del_{model.__name__}")
    m2m_changed.connect(_forget_rules, sender=ScoringRule.topics.through,
                        dispatch_uid="leadscore_rule_topics")
    # Per tagged page model, never for every sender: a receiver of every model's
    # post_delete would stop Django's fast (single-statement) deletes everywhere.
    for model in apps.get_models():
        if issubclass(model, LeadScoringPageMixin):
            post_save.connect(_forget_page, sender=model,
                              dispatch_uid=f"leadscore_page_saved_{model._meta.label}")
            post_delete.connect(_forget_page, sender=model,
                                dispatch_uid=f"leadscore_page_deleted_{model._meta.label}")
