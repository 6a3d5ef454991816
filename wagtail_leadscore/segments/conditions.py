"""Segment condition types: each is a StreamField block that validates itself, compiles to
a ``Q`` over the people of a :class:`Scope` (set-based SQL, never a per-person loop) and
says which events can change it (so an event re-tests only the segments it can change).

A site adds types with the SEGMENT_CONDITION_TYPES setting: subclasses of
:class:`ConditionBlock`.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, F, FloatField, Q, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Concat
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual, Regex
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.snippets.blocks import SnippetChooserBlock

from ..conf import get_setting
from ..lifecycle.stages import Stage
from ..models import Contact, Event, Visitor
from ..scoring.fit import as_number
from ..scoring.models import GLOBAL, Score, Topic, topic_dimension
from ..scoring.triggers import TRIGGERS, exact_target, split_words
from ..url_regex import UrlMatches, pattern_error

# Nobody, as SQL (``pk__in=[]`` would make Django skip the whole query instead).
NOTHING = Q(pk__isnull=True)


@dataclass(frozen=True)
class Scope:
    """Whom a condition is evaluated for: contacts, or anonymous visitors (no contact);
    every one of them, or only ``owner_id`` (the incremental update after an event)."""

    kind: str  # "contact" or "visitor"
    now: datetime
    owner_id: object = None

    @property
    def model(self):
        return Contact if self.kind == "contact" else Visitor

    @property
    def column(self):
        """The column naming this kind of person in events, scores and memberships."""
        return f"{self.kind}_id"

    def people(self):
        people = self.model.objects.order_by()
        if self.kind == "visitor":
            people = people.filter(contact__isnull=True)
        return people if self.owner_id is None else people.filter(pk=self.owner_id)

    def rows_of(self, queryset):
        """``queryset`` (events, scores, ...) narrowed to this scope's people."""
        if self.owner_id is not None:
            return queryset.filter(**{self.column: self.owner_id})
        return queryset.filter(**{f"{self.column}__isnull": False})


def events_q(scope, events, at_least=1, within_days=None):
    """People with at least ``at_least`` of ``events`` (an Event queryset) in the last
    ``within_days`` days: one grouped subquery."""
    if within_days:
        events = events.filter(occurred_at__gte=scope.now - timedelta(days=within_days))
    events = scope.rows_of(events).values(scope.column)
    if at_least > 1:
        events = events.annotate(times=Count("pk")).filter(times__gte=at_least).values(
            scope.column)
    return Q(pk__in=events)


def event_url():
    """An event's URL as URL triggers see it: the path, plus "?query" when there is one."""
    return Case(When(query="", then=F("path")),
                default=Concat(F("path"), Value("?"), F("query"), output_field=TextField()),
                output_field=TextField())


def clean_struct(block, value, errors):
    if errors:
        raise StructBlockValidationError(block_errors={
            name: ValidationError(message) for name, message in errors.items()})
    return value


class ConditionBlock(blocks.StructBlock):
    """A condition type. Subclasses give ``compile`` and ``changed_by``; ``time_based``
    conditions change with time alone, so the scheduled refresh re-tests them."""

    def compile(self, value, scope):
        """A ``Q`` over ``scope.model``: the people for whom the condition holds."""
        raise NotImplementedError

    def changed_by(self, value, event):
        """Whether recording ``event`` can change whether the condition holds for its
        person (scores already updated: ``event.leadscore_scores``)."""
        return False

    def url_rule(self, value):
        """(URL match kind, its value) for a condition on a page view's URL, which the
        per-event index (``candidates``) tests instead of ``changed_by``; else None."""
        return None

    def reads_scores(self, value):
        """Whether ``changed_by`` reads the event's new scores: it is then asked after
        scoring, not before the event's INSERT (which on PostgreSQL does the scoring)."""
        return False

    def time_based(self, value):
        return False

    def only_grows(self, value):
        """Whether a new event can only make the condition hold, never stop it holding
        (time can: the scheduled refresh sees to that)."""
        return False

    def reads_contact(self, value):
        """Whether the condition reads the contact row or its tags (saving one re-tests)."""
        return False

    def referenced_segments(self, value):
        return []


def at_least_block():
    return blocks.IntegerBlock(default=1, min_value=1, label=_("at least (times)"))


def within_days_block():
    return blocks.IntegerBlock(required=False, min_value=1, label=_("within the last (days)"),
                               help_text=_("Empty: ever."))


class CountedEventsBlock(ConditionBlock):
    """A condition on events counted ``at_least`` times ``within_days`` (its fields):
    time-based when a window is set."""

    def time_based(self, value):
        return bool(value.get("within_days"))

    def only_grows(self, value):
        return True


URL_MATCHES = (
    ("url_exact", _("is exactly")),
    ("url_words", _("contains all the words")),
    ("url_contains", _("contains the string")),
    ("url_regex", _("matches the regular expression")),
    ("page_subtree", _("is the page or one of its subpages")),
)


def as_rule(value):
    """The ``value`` of a URL condition as the scoring trigger of the same kind reads a
    rule: one definition of what each URL match means."""
    page = value.get("page")
    return SimpleNamespace(value=value.get("url") or "", page=page,
                           page_id=page.pk if page else None)


class VisitedUrlBlock(CountedEventsBlock):
    match = blocks.ChoiceBlock(choices=URL_MATCHES, default="url_contains", label=_("URL"))
    url = blocks.CharBlock(required=False, label=_("URL, words, string or expression"))
    page = blocks.PageChooserBlock(required=False, label=_("page (for subpages)"))
    at_least = at_least_block()
    within_days = within_days_block()

    class Meta:
        icon = "link"
        label = _("Visited a URL")

    def clean(self, value):
        value = super().clean(value)
        errors = TRIGGERS[value["match"]].validate(as_rule(value))
        return clean_struct(self, value, {("url" if name == "value" else name): message
                                          for name, message in errors.items()})

    def compile(self, value, scope):
        match, url = value["match"], (value.get("url") or "").strip()
        views = Event.objects.filter(type="page_view")
        if match == "page_subtree":
            views = views.filter(page__path__startswith=value["page"].path)
        else:
            views = views.annotate(leadscore_url=event_url()).filter(url_q(match, url))
        return events_q(scope, views, value["at_least"], value.get("within_days"))

    def url_rule(self, value):
        page = value.get("page")
        if value["match"] == "page_subtree":
            return "page_subtree", page.path if page else ""
        return value["match"], value.get("url") or ""


def url_q(match, url):
    """The URL triggers' Python matching (``scoring.triggers``) as a filter on events
    annotated with ``leadscore_url``; case-insensitive like them."""
    if match == "url_words":
        return Q(*[Q(leadscore_url__icontains=word) for word in split_words(url)])
    if match == "url_contains":
        return Q(leadscore_url__icontains=url)
    if match == "url_regex":
        # An expression the validator refuses matches nothing, as on the serve path.
        return NOTHING if pattern_error(url) else Q(UrlMatches(F("leadscore_url"), url))
    url = exact_target(url)
    if "?" in url:
        return Q(leadscore_url__iexact=url)
    path = url.rstrip("/")
    return Q(path__iexact=path) | Q(path__iexact=path + "/") if path else Q(path="/")


COMPARISONS = (
    ("gte", _("at least")),
    ("lte", _("at most")),
    ("gt", _("more than")),
    ("lt", _("less than")),
    ("exact", _("exactly")),
)
COMPARE = {
    "gte": lambda a, b: a >= b, "lte": lambda a, b: a <= b, "gt": lambda a, b: a > b,
    "lt": lambda a, b: a < b, "exact": lambda a, b: a == b,
}


def score_choices():
    """The global score, then one per topic (read when the form is built)."""
    return [("", _("Global score")),
            *((str(pk), name) for pk, name in Topic.objects.values_list("pk", "name"))]


class ScoreBlock(ConditionBlock):
    topic = blocks.ChoiceBlock(required=False, choices=score_choices, label=_("score"))
    comparison = blocks.ChoiceBlock(choices=COMPARISONS, default="gte", label=_("is"))
    points = blocks.IntegerBlock(label=_("points"))

    class Meta:
        icon = "order"
        label = _("Score compared to a number")

    def dimension(self, value):
        return topic_dimension(int(value["topic"])) if value.get("topic") else GLOBAL

    def compile(self, value, scope):
        comparison, points = value["comparison"], value["points"]
        scores = Score.objects.filter(dimension=self.dimension(value))
        holds = Q(**{f"value__{comparison}": points})
        # No score row means 0 points: "less than 10" holds for people who never scored.
        if COMPARE[comparison](0, points):
            return ~Q(pk__in=scope.rows_of(scores.exclude(holds)).values(scope.column))
        return Q(pk__in=scope.rows_of(scores.filter(holds)).values(scope.column))

    def changed_by(self, value, event):
        return self.dimension(value) in getattr(event, "leadscore_scores", {})

    def reads_scores(self, value):
        return True


class StageBlock(ConditionBlock):
    stages = blocks.MultipleChoiceBlock(choices=Stage.choices, label=_("stage is one of"))

    class Meta:
        icon = "list-ol"
        label = _("Stage in a set")

    def reads_contact(self, value):
        return True

    def compile(self, value, scope):
        if scope.kind == "contact":
            return Q(stage__in=value["stages"])
        # An anonymous visitor's stage: "engaged" from ENGAGED_SCORE global points on.
        wanted = set(value["stages"])
        engaged = Q(pk__in=scope.rows_of(Score.objects.filter(
            dimension=GLOBAL, value__gte=get_setting("ENGAGED_SCORE"))).values(scope.column))
        if {Stage.ANONYMOUS, Stage.ENGAGED} <= wanted:
            return Q()
        if Stage.ENGAGED in wanted:
            return engaged
        if Stage.ANONYMOUS in wanted:
            return ~engaged
        return NOTHING

    def changed_by(self, value, event):
        return event.type == "stage_change" or bool(getattr(event, "leadscore_scores", None))

    def reads_scores(self, value):
        return True


FACT_OPERATORS = (
    ("iexact", _("equals")),
    ("icontains", _("contains")),
    ("in", _("is one of (comma separated)")),
    ("gte", _("is a number at least")),
    ("lte", _("is a number at most")),
)
NUMERIC_TEXT = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$"
NUMERIC_COMPARISONS = {"gte": GreaterThanOrEqual, "lte": LessThanOrEqual}
CUSTOM_FACT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
ACCOUNT_FACT = "company."  # "company.employees": the "employees" fact of the contact's company


def fact_lookup(fact):
    """(ORM path, text expression) of a fact: a profile field, ``company.<key>`` (an
    account fact of the contact's company) or the key of a custom fact."""
    if fact in ("email", *Contact.PROFILE_FIELDS):
        return fact, F(fact)
    if fact.startswith(ACCOUNT_FACT):
        key = fact.removeprefix(ACCOUNT_FACT)
        return f"account__facts__{key}", KeyTextTransform(key, "account__facts")
    return f"facts__{fact}", KeyTextTransform(fact, "facts")


class FactBlock(ConditionBlock):
    fact = blocks.CharBlock(label=_("fact"), help_text=_(
        "A profile field (company, company_size, job_title, industry, country, ...), the "
        "key of a custom fact, or company.<key> for a fact of the contact's company account "
        "(e.g. company.employees)."))
    operator = blocks.ChoiceBlock(choices=FACT_OPERATORS, default="iexact", label=_("operator"))
    value = blocks.CharBlock(label=_("value"))

    class Meta:
        icon = "user"
        label = _("Contact or company fact")

    def clean(self, value):
        value = super().clean(value)
        fact = value["fact"].strip()
        errors = {}
        key = fact.removeprefix(ACCOUNT_FACT)
        if fact not in ("email", *Contact.PROFILE_FIELDS) and not CUSTOM_FACT.match(key):
            errors["fact"] = _("Use a profile field, or a custom fact key (or company. and "
                               "an account fact key) of letters, digits and underscores.")
        if value["operator"] in NUMERIC_COMPARISONS and as_number(value["value"]) is None:
            errors["value"] = _("Give a number.")
        return clean_struct(self, value, errors)

    def reads_contact(self, value):
        return True

    def compile(self, value, scope):
        if scope.kind != "contact":
            return NOTHING
        field, text = fact_lookup(value["fact"].strip())
        if value["operator"] in NUMERIC_COMPARISONS:
            # Facts that are numbers (60000, "60000"); anything else never compares.
            number = Case(When(Regex(text, NUMERIC_TEXT), then=Cast(text, FloatField())),
                          default=None, output_field=FloatField())
            return Q(NUMERIC_COMPARISONS[value["operator"]](number, as_number(value["value"])))
        if value["operator"] == "in":
            choices = [choice.strip() for choice in value["value"].split(",") if choice.strip()]
            return Q(*[Q(**{f"{field}__iexact": choice}) for choice in choices], _connector=Q.OR)
        return Q(**{f"{field}__{value['operator']}": value["value"].strip()})

    def changed_by(self, value, event):
        return event.type in ("identify", "form_submit", "offline")


class TagBlock(ConditionBlock):
    tag = blocks.CharBlock(label=_("tag"))

    class Meta:
        icon = "tag"
        label = _("Has a tag")

    def reads_contact(self, value):
        return True

    def compile(self, value, scope):
        if scope.kind != "contact":
            return NOTHING
        tagged = Contact.tags.through.objects.filter(tag__name__iexact=value["tag"].strip())
        return Q(pk__in=tagged.values("content_object_id"))


ACTIVITY = (("active", _("active within the last")), ("inactive", _("inactive for")))


class ActivityBlock(ConditionBlock):
    activity = blocks.ChoiceBlock(choices=ACTIVITY, default="active", label=_("activity"))
    days = blocks.IntegerBlock(min_value=1, label=_("days"))

    class Meta:
        icon = "time"
        label = _("Active or inactive")

    def compile(self, value, scope):
        done = Event.objects.exclude(type__in=Event.SYSTEM_TYPES)
        active = events_q(scope, done, within_days=value["days"])
        return active if value["activity"] == "active" else ~active

    def changed_by(self, value, event):
        return event.type not in Event.SYSTEM_TYPES

    def only_grows(self, value):
        return value["activity"] == "active"

    def time_based(self, value):
        return True


def event_type_choices():
    from ..events import event_types  # events imports the models, which import this

    return [(event_type.name, event_type.label) for event_type in event_types]


class EventBlock(CountedEventsBlock):
    event_type = blocks.ChoiceBlock(choices=event_type_choices, label=_("event"))
    name = blocks.CharBlock(required=False, label=_("named"),
                            help_text=_("Empty: any event of the type."))
    at_least = at_least_block()
    within_days = within_days_block()

    class Meta:
        icon = "date"
        label = _("An event happened")

    def events(self, value):
        events = Event.objects.filter(type=value["event_type"])
        name = (value.get("name") or "").strip()
        return events.filter(name__iexact=name) if name else events

    def compile(self, value, scope):
        return events_q(scope, self.events(value), value["at_least"], value.get("within_days"))

    def changed_by(self, value, event):
        name = (value.get("name") or "").strip().lower()
        return event.type == value["event_type"] and (not name or event.name.lower() == name)



EMAIL_ACTIONS = (("email_open", _("opened")), ("email_click", _("clicked a link in")))


class EmailBlock(EventBlock):
    """An email opened or clicked: the ``email_open`` / ``email_click`` events named after
    the email."""

    event_type = blocks.ChoiceBlock(choices=EMAIL_ACTIONS, default="email_click",
                                    label=_("the contact"))
    name = blocks.CharBlock(label=_("the email named"))

    class Meta:
        icon = "mail"
        label = _("Opened or clicked an email")


class MemberOfBlock(ConditionBlock):
    segment = SnippetChooserBlock("wagtail_leadscore.Segment", label=_("segment"))

    class Meta:
        icon = "group"
        label = _("Member of another segment")

    def compile(self, value, scope):
        from .models import SegmentMembership

        segment = value["segment"]
        if segment is None:
            return NOTHING
        members = scope.rows_of(SegmentMembership.objects.filter(segment=segment))
        return Q(pk__in=members.values(scope.column))

    def referenced_segments(self, value):
        return [value["segment"]] if value.get("segment") else []
