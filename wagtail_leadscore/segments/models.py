"""Segments (snippets: conditions stored as StreamField data) and their stored members."""

from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.fields import StreamField

from ..conf import get_setting
from ..scoring.models import SlugFromNameMixin, one_owner, owner_fields, unique_per_owner
from .conditions import (
    ActivityBlock,
    EmailBlock,
    EventBlock,
    FactBlock,
    MemberOfBlock,
    ScoreBlock,
    StageBlock,
    TagBlock,
    VisitedUrlBlock,
)

MATCH_CHOICES = (
    ("all", _("all of the conditions")),
    ("any", _("any of the conditions")),
    ("none", _("none of the conditions")),
)


def condition_blocks():
    """The condition types: the built-in ones, then the SEGMENT_CONDITION_TYPES setting's."""
    types = [
        ("visited_url", VisitedUrlBlock()),
        ("score", ScoreBlock()),
        ("stage", StageBlock()),
        ("fact", FactBlock()),
        ("tag", TagBlock()),
        ("activity", ActivityBlock()),
        ("event", EventBlock()),
        ("email", EmailBlock()),
        ("member_of", MemberOfBlock()),
    ]
    types.extend((name, import_string(path)())
                 for name, path in get_setting("SEGMENT_CONDITION_TYPES").items())
    return types


class ConditionGroupBlock(blocks.StructBlock):
    """Conditions combined by their own all / any / none, inside a segment's."""

    match = blocks.ChoiceBlock(choices=MATCH_CHOICES, default="any", label=_("match"))
    conditions = blocks.StreamBlock(condition_blocks(), label=_("conditions"))

    class Meta:
        icon = "folder-open-inverse"
        label = _("Group of conditions")


def segment_condition_blocks():
    return [*condition_blocks(), ("group", ConditionGroupBlock())]


class Segment(SlugFromNameMixin, models.Model):
    """People grouped by what they did. Membership is stored (``SegmentMembership``):
    updated when an event arrives that can change it, and rebuilt for time-based
    conditions on a schedule."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, blank=True,
                            help_text=_("Names the segment in templates; filled from the "
                                        "name when left empty."))
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    include_visitors = models.BooleanField(
        _("anonymous visitors can be members"), default=True,
        help_text=_("For personalising content before visitors give their email."))
    match = models.CharField(_("match"), max_length=10, choices=MATCH_CHOICES, default="all")
    conditions = StreamField(segment_condition_blocks(), blank=True,
                             verbose_name=_("conditions"))
    rebuilt_at = models.DateTimeField(_("rebuilt"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from .compiler import referenced_segments

        if self.pk and self in referenced_segments(self, deep=True):
            raise ValidationError({"conditions": _(
                "A segment cannot depend on itself, directly or through another segment.")})
        if not self.conditions:
            raise ValidationError({"conditions": _("Add at least one condition.")})
        self.probe()

    def contacts(self):
        """The contacts stored as members: the audience that automation, nurture and
        per-segment lead definitions read (kept up to date, never re-tested here)."""
        from ..models import Contact

        return Contact.objects.filter(segment_memberships__segment=self)

    def has_contact(self, contact):
        """Whether ``contact`` (a Contact or its id) is a stored member."""
        return self.memberships.filter(contact=contact).exists()

    def probe(self):
        """Validate the conditions by applying them: a form error, not a failing rebuild."""
        from .rebuild import count_members

        apply_conditions_once(lambda: count_members(self, timezone.now()))


def apply_conditions_once(apply):
    """Run ``apply`` (a query of stored conditions) once, so that what only the database can
    judge, e.g. its regular-expression syntax, is a form error on "conditions"."""
    try:
        with transaction.atomic():
            apply()
    except DatabaseError as error:
        raise ValidationError({"conditions": _(
            "The database cannot apply these conditions: %(error)s") % {"error": error}}
        ) from error


class SegmentMembership(models.Model):
    """One person in a segment: a contact, or an anonymous visitor."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    contact, visitor = owner_fields("segment_memberships")  # derived rows, as scores are
    entered_at = models.DateTimeField(_("member since"), default=timezone.now)

    class Meta:
        verbose_name = _("segment membership")
        verbose_name_plural = _("segment memberships")
        # (contact, segment) and (visitor, segment): also a person's memberships, per request.
        constraints = [*unique_per_owner("leadscore_member", "segment"),
                       one_owner("leadscore_member")]
