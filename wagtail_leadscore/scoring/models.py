"""Scoring data: topics, rules (snippets), fit rules, and the ledger with the scores it sums.

Scores are derived data. Every point is a :class:`ScoreEntry` naming its event and its rule
or page; :class:`Score` holds the running sums per person and dimension ("global",
"topic:<id>", "stage"), and :class:`ScoreCounter` counts occurrences for caps and bonuses.
``leadscore_rebuild_scores`` recomputes all three from the event log.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel

from .triggers import TRIGGERS, trigger_choices

GLOBAL = "global"
STAGE = "stage"


def topic_dimension(topic_id):
    return f"topic:{topic_id}"


class SlugFromNameMixin:
    """A ``slug`` filled from the ``name`` when left empty."""

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:100]
        super().save(*args, **kwargs)


class Topic(SlugFromNameMixin, models.Model):
    """An interest (passive houses, smart home): pages and rules feed a score per topic."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, blank=True,
                            help_text=_("Filled from the name when left empty."))

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Cap(models.TextChoices):
    NONE = "none", _("Every time")
    ONCE = "once", _("Once per person, ever")
    PER_PERIOD = "per_period", _("At most N times per period")


class ScoringRule(ClusterableModel):
    """Points for a behaviour: stored as data, matched against every recorded event."""

    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(_("trigger"), max_length=30, choices=trigger_choices())
    value = models.CharField(
        _("match"), max_length=500, blank=True,
        help_text=_("What the trigger looks for: a URL path, words, a string, a regular "
                    "expression, a form / document / email / event name, or the form field."),
    )
    page = models.ForeignKey(
        "wagtailcore.Page", verbose_name=_("page"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+",
        help_text=_("For “page or its subpages viewed”."),
    )
    answer = models.CharField(
        _("answer"), max_length=200, blank=True,
        help_text=_("For “form answer”: the answer that scores (any answer when empty)."),
    )
    points = models.IntegerField(_("points"), help_text=_("Negative points take away."))
    feeds_global = models.BooleanField(_("feeds the global score"), default=True)
    topics = ParentalManyToManyField(Topic, verbose_name=_("feeds these topics"), blank=True,
                                     related_name="rules")
    feeds_stage = models.BooleanField(
        _("feeds the stage score"), default=False,
        help_text=_("Points earned in the contact's current stage (see the README)."),
    )
    cap = models.CharField(_("cap"), max_length=20, choices=Cap.choices, default=Cap.NONE)
    cap_count = models.PositiveIntegerField(_("at most (times)"), default=1)
    cap_period_days = models.PositiveIntegerField(_("per period of (days)"), default=1)
    bonus_occurrence = models.PositiveIntegerField(
        _("bonus on occurrence number"), null=True, blank=True,
        help_text=_("E.g. 5: the fifth time this happens earns the bonus too."),
    )
    bonus_points = models.IntegerField(_("bonus points"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        trigger = TRIGGERS.get(self.trigger)
        if trigger is not None:
            errors.update(trigger.validate(self))
        if self.cap == Cap.PER_PERIOD and not self.cap_count:
            errors["cap_count"] = _("Say how many times per period.")
        if self.bonus_occurrence and not self.bonus_points:
            errors["bonus_points"] = _("A bonus needs points.")
        if self.bonus_points and not self.bonus_occurrence:
            errors["bonus_occurrence"] = _("Say on which occurrence the bonus is earned.")
        if errors:
            raise ValidationError(errors)


class FitOperator(models.TextChoices):
    EQUALS = "equals", _("equals")
    CONTAINS = "contains", _("contains")
    ONE_OF = "one_of", _("is one of (comma separated)")
    BETWEEN = "between", _("is a number between")
    AT_LEAST = "at_least", _("is a number of at least")
    AT_MOST = "at_most", _("is a number of at most")
    IS_SET = "is_set", _("is known")


class FitRule(models.Model):
    """Points for who a contact is (industry, size, role, budget, country): the fit score."""

    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    fact = models.CharField(
        _("fact"), max_length=100,
        help_text=_("A contact field (company_size, industry, job_title, country, ...) or the "
                    "name of a custom fact, e.g. budget."),
    )
    operator = models.CharField(_("operator"), max_length=20, choices=FitOperator.choices)
    value = models.CharField(_("value"), max_length=500, blank=True)
    value_to = models.CharField(_("up to"), max_length=50, blank=True,
                                help_text=_("For “between”: the upper bound."))
    points = models.IntegerField(_("points"))

    class Meta:
        verbose_name = _("fit rule")
        verbose_name_plural = _("fit rules")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from .fit import validate_fit_rule

        errors = validate_fit_rule(self)
        if errors:
            raise ValidationError(errors)


def one_owner(name):
    """A row belongs to a contact or to an anonymous visitor, never both."""
    return models.CheckConstraint(
        condition=Q(contact__isnull=False, visitor__isnull=True)
        | Q(contact__isnull=True, visitor__isnull=False),
        name=f"{name}_one_owner",
    )


def unique_per_owner(name, key):
    """Unique per owner and ``key``: the conflict targets of the counter upserts."""
    return [
        models.UniqueConstraint(fields=["contact", key], condition=Q(contact__isnull=False),
                                name=f"{name}_contact_{key}"),
        models.UniqueConstraint(fields=["visitor", key], condition=Q(visitor__isnull=False),
                                name=f"{name}_visitor_{key}"),
    ]


def owner_fields(related_name="+"):
    """The owner of derived rows. No database constraint: a check per inserted row (and a
    lock on the contact) slows live scoring and rebuilds, and Django still deletes the
    rows of a deleted contact or visitor. No index of its own either: the owner's
    ``unique_per_owner`` or other indexes lead with it."""
    return (
        models.ForeignKey("wagtail_leadscore.Contact", null=True, blank=True,
                          on_delete=models.CASCADE, related_name=related_name,
                          db_index=False, db_constraint=False),
        models.ForeignKey("wagtail_leadscore.Visitor", null=True, blank=True,
                          on_delete=models.CASCADE, related_name=related_name,
                          db_index=False, db_constraint=False),
    )


class ScoreEntry(models.Model):
    """One ledger line: ``points`` for one dimension, earned by ``event`` through a rule or
    a page. ``counted`` is cleared when the line leaves the time window (or the stage)."""

    contact, visitor = owner_fields()
    # No constraints: the ledger outlives deleted pages and rules (``label`` keeps their name),
    # and deleting either never scans the ledger.
    event = models.ForeignKey("wagtail_leadscore.Event", null=True, on_delete=models.DO_NOTHING,
                              related_name="+", db_constraint=False, db_index=False)
    rule = models.ForeignKey(ScoringRule, null=True, on_delete=models.DO_NOTHING,
                             related_name="+", db_constraint=False, db_index=False)
    page = models.ForeignKey("wagtailcore.Page", null=True, on_delete=models.DO_NOTHING,
                             related_name="+", db_constraint=False, db_index=False)
    source = models.CharField(max_length=40)
    label = models.CharField(_("reason"), max_length=255)
    dimension = models.CharField(_("score"), max_length=64)
    points = models.IntegerField(_("points"))
    counted = models.BooleanField(_("counts now"), default=True)
    day = models.IntegerField(help_text="UTC date of the event, as date.toordinal().")
    occurred_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("score entry")
        verbose_name_plural = _("score entries")
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="leadscore_entry_contact"),
            models.Index(fields=["visitor"], condition=Q(visitor__isnull=False),
                         name="leadscore_entry_visitor"),
            models.Index(fields=["day"], condition=Q(counted=True), name="leadscore_entry_day"),
        ]
        constraints = [one_owner("leadscore_entry")]


class Score(models.Model):
    """The current (aged) sum of counted ledger points of one owner in one dimension."""

    contact, visitor = owner_fields()
    dimension = models.CharField(_("score"), max_length=64)
    value = models.IntegerField(_("points"), default=0)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [one_owner("leadscore_score"),
                       *unique_per_owner("leadscore_score", "dimension")]


class ScoreCounter(models.Model):
    """How often a rule or page triggered for one owner (ever, or in a period): caps and
    N-th occurrence bonuses read it; period counters are deleted once expired."""

    contact, visitor = owner_fields()
    key = models.CharField(max_length=80)
    count = models.IntegerField(default=0)
    expires_day = models.IntegerField(null=True)

    class Meta:
        constraints = [one_owner("leadscore_counter"),
                       *unique_per_owner("leadscore_counter", "key")]
