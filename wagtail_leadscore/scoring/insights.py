"""Scoring insights: what the contacts sales confirmed (SAL, SQL, customers) did more often
than the rest, per behaviour (a page read, a topic, an event, a fact), with a suggested
point value and how many contacts it would make leads. The seeds' method, done for the
marketer: start every action at a few points, look at whom sales confirmed, give what
they have in common more points, repeat.

A behaviour's lift is how much likelier a confirmed contact shows it than another one
(smoothed, so a behaviour of two contacts does not top the list); it must be shown by
``min_support`` confirmed contacts to count."""

import math
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q

from ..lifecycle.stages import CONFIRMED_STAGES, QUALIFIABLE_STAGES
from ..models import Contact, Event
from .models import GLOBAL, FitOperator, FitRule, Score, ScoringRule, Topic
from .sources import sources

# Events that are behaviours, and the scoring trigger that awards points for each.
EVENT_TRIGGERS = {"form_submit": "form_submitted", "download": "download",
                  "custom": "custom_event", "offline": "offline_event",
                  "email_click": "email_click"}
FACT_FIELDS = ("company_size", "industry", "country", "job_title")
POINTS_PER_DOUBLING = 10  # twice as likely among the confirmed: 10 points
MIN_POINTS, MAX_POINTS = -20, 50


@dataclass
class Behaviour:
    kind: str  # page, event, topic, fact
    key: str  # page:<id>, event:<type>:<name>, topic:<id>, fact:<name>=<value>
    label: str
    confirmed: int = 0
    others: int = 0
    lift: float = 1.0
    current_points: int | None = None
    suggested_points: int = 0
    would_qualify: int = 0

    @property
    def can_apply(self):
        return self.kind != "topic" and self.suggested_points != self.current_points


def smoothed_lift(confirmed, confirmed_total, others, others_total):
    return ((confirmed + 1) / (confirmed_total + 2)) / ((others + 1) / (others_total + 2))


def suggested_points(lift):
    points = round(POINTS_PER_DOUBLING * math.log2(lift)) if lift > 0 else MIN_POINTS
    return max(MIN_POINTS, min(MAX_POINTS, points))


def counts_by(queryset, *group, contact_field="contact"):
    """{group values: (confirmed contacts, other contacts)} of ``queryset``, grouped."""
    confirmed = Q(**{f"{contact_field}__stage__in": CONFIRMED_STAGES})
    rows = (queryset.values(*group).order_by()
            .annotate(confirmed=Count(contact_field, distinct=True, filter=confirmed),
                      others=Count(contact_field, distinct=True, filter=~confirmed)))
    return {tuple(row[name] for name in group): (row["confirmed"], row["others"])
            for row in rows}


def behaviours():
    """Every behaviour of the contacts, with its counts (a few grouped queries)."""
    from wagtail.models import Page

    found = []
    identified = Event.objects.filter(contact__isnull=False)
    pages = counts_by(identified.filter(type="page_view", page__isnull=False), "page")
    titles = dict(Page.objects.filter(pk__in=[page for page, in pages])
                  .values_list("pk", "title"))
    found += [Behaviour("page", f"page:{page}", titles.get(page, str(page)), *counts)
              for (page,), counts in pages.items()]
    events = counts_by(identified.filter(type__in=EVENT_TRIGGERS).exclude(name=""),
                       "type", "name")
    found += [Behaviour("event", f"event:{kind}:{name}", f"{kind}: {name}", *counts)
              for (kind, name), counts in events.items()]
    topics = counts_by(Score.objects.filter(contact__isnull=False, value__gt=0,
                                            dimension__startswith="topic:"), "dimension")
    names = dict(Topic.objects.values_list("pk", "name"))
    found += [Behaviour("topic", dimension, names.get(int(dimension.split(":")[1]), dimension),
                        *counts) for (dimension,), counts in topics.items()]
    found += fact_behaviours()
    return found


def fact_behaviours():
    """Facts with a short value shared by several contacts (a size, an industry)."""
    counts = Counter()
    for stage, facts, *fields in Contact.objects.values_list("stage", "facts", *FACT_FIELDS):
        values = dict(zip(FACT_FIELDS, fields, strict=True))
        values.update((key, value) for key, value in (facts or {}).items()
                      if isinstance(value, (str, int)) and not isinstance(value, bool))
        confirmed = stage in CONFIRMED_STAGES
        for name, value in values.items():
            text = str(value).strip()
            if text and len(text) <= 100:
                counts[(name, text.lower(), confirmed)] += 1
    pairs = {(name, value) for name, value, _ in counts}
    return [Behaviour("fact", f"fact:{name}={value}", f"{name} = {value}",
                      counts[(name, value, True)], counts[(name, value, False)])
            for name, value in pairs]


def insights(top=20, min_support=None):
    """The ``top`` behaviours by lift, with suggestions; [] when sales confirmed nobody."""
    confirmed_total = Contact.objects.filter(stage__in=CONFIRMED_STAGES).count()
    others_total = Contact.objects.exclude(stage__in=CONFIRMED_STAGES).count()
    if not confirmed_total:
        return []
    if min_support is None:
        min_support = max(3, math.ceil(0.05 * confirmed_total))
    ranked = [behaviour for behaviour in behaviours() if behaviour.confirmed >= min_support]
    for behaviour in ranked:
        behaviour.lift = smoothed_lift(behaviour.confirmed, confirmed_total,
                                       behaviour.others, others_total)
        behaviour.suggested_points = suggested_points(behaviour.lift)
    ranked.sort(key=lambda behaviour: (-behaviour.lift, -behaviour.confirmed, behaviour.key))
    chosen = ranked[:top]
    add_current_points(chosen)
    for behaviour in chosen:
        behaviour.would_qualify = would_qualify(behaviour)
    return chosen


def add_current_points(chosen):
    from wagtail.models import Page

    page_ids = [int(b.key.split(":")[1]) for b in chosen if b.kind == "page"]
    points = {page.pk: getattr(page, "leadscore_points", 0)
              for page in Page.objects.filter(pk__in=page_ids).specific()}
    for behaviour in chosen:
        if behaviour.kind == "page":
            behaviour.current_points = points.get(int(behaviour.key.split(":")[1]), 0)
        elif behaviour.kind == "event":
            rule = matching_rule(behaviour)
            behaviour.current_points = rule.points if rule is not None else 0
        elif behaviour.kind == "fact":
            behaviour.current_points = sum(rule.points for rule in
                                           matching_fit_rules(behaviour))


def event_parts(behaviour):
    _, kind, name = behaviour.key.split(":", 2)
    return kind, name


def matching_rule(behaviour):
    kind, name = event_parts(behaviour)
    return ScoringRule.objects.filter(trigger=EVENT_TRIGGERS[kind],
                                      value__iexact=name).order_by("pk").first()


def fact_parts(behaviour):
    name, _, value = behaviour.key.removeprefix("fact:").partition("=")
    return name, value


def matching_fit_rules(behaviour):
    """The active fit rules that give points for the fact's value ("contains", "one of",
    ... included), asked as fit scoring asks them."""
    from .fit import rule_matches

    name, value = fact_parts(behaviour)
    stand_in = Contact(**({name: value} if name in Contact.PROFILE_FIELDS
                          else {"facts": {name: value}}))
    return [rule for rule in FitRule.objects.filter(fact=name, is_active=True).order_by("pk")
            if rule_matches(rule, stand_in)]


def contacts_with(behaviour):
    """The contacts that show ``behaviour``, as a queryset."""
    if behaviour.kind == "page":
        return Contact.objects.filter(events__type="page_view",
                                      events__page_id=int(behaviour.key.split(":")[1]))
    if behaviour.kind == "event":
        kind, name = event_parts(behaviour)
        return Contact.objects.filter(events__type=kind, events__name=name)
    if behaviour.kind == "topic":
        return Contact.objects.filter(pk__in=Score.objects.filter(
            contact__isnull=False, dimension=behaviour.key, value__gt=0).values("contact"))
    name, value = fact_parts(behaviour)
    field = name if name in FACT_FIELDS else f"facts__{name}"
    return Contact.objects.filter(**{f"{field}__iexact": value})


def would_qualify(behaviour):
    """Contacts not yet leads whom the suggested points would carry to the lead score."""
    if behaviour.kind in ("topic", "fact"):
        return 0  # topics award no points; fit is not the engagement score
    extra = behaviour.suggested_points - (behaviour.current_points or 0)
    if extra <= 0:
        return 0
    threshold = sources.rules.lead.min_score
    candidates = contacts_with(behaviour).filter(stage__in=QUALIFIABLE_STAGES).values("pk")
    return (Score.objects.filter(contact__in=candidates, dimension=GLOBAL,
                                 value__lt=threshold, value__gte=threshold - extra)
            .values("contact").distinct().count())


def apply_suggestion(behaviour, user=None):
    """Give ``behaviour`` its suggested points: the page's points (a published revision),
    the scoring rule of the event (created if none), or a fit rule for the fact. Returns
    what changed, in words; raises ValueError when it cannot be applied here."""
    from wagtail.models import Page

    points = behaviour.suggested_points
    if behaviour.kind == "page":
        page = Page.objects.get(pk=int(behaviour.key.split(":")[1])).specific
        if not hasattr(page, "leadscore_points"):
            raise ValueError("This page type has no points.")
        if page.has_unpublished_changes:
            raise ValueError("The page has a draft: set its points in the page editor.")
        page.leadscore_points = points
        page.save_revision(user=user, log_action=True).publish(user=user)
        return f"“{page.title}” now earns {points} points per view."
    if behaviour.kind == "event":
        kind, name = event_parts(behaviour)
        rule = matching_rule(behaviour) or ScoringRule(
            name=f"{behaviour.label} (insights)"[:200], trigger=EVENT_TRIGGERS[kind],
            value=name)
        rule.points = points
        rule.full_clean()
        rule.save()
        return f"The rule “{rule.name}” now gives {points} points."
    if behaviour.kind == "fact":
        name, value = fact_parts(behaviour)
        rules = matching_fit_rules(behaviour)
        if len(rules) > 1:
            raise ValueError("Several fit rules give points for this value: edit them in "
                             "Lead scoring → Fit rules.")
        rule = rules[0] if rules else FitRule(
            name=f"{name} is {value} (insights)"[:200], fact=name,
            operator=FitOperator.EQUALS, value=value)
        rule.points = points
        rule.full_clean()
        rule.save()
        return f"The fit rule “{rule.name}” now gives {points} points."
    raise ValueError("Topics take no points of their own: tag pages with the topic.")


def find(key, **kwargs):
    """The current insight of the behaviour named ``key``, or None."""
    return next((behaviour for behaviour in insights(**kwargs) if behaviour.key == key), None)
