"""Page-level score tagging: a mixin for page models and the panels of its editor tab.

    class OfferPage(LeadScoringPageMixin, Page):
        edit_handler = lead_scoring_edit_handler(content_panels)

or add ``ObjectList(leadscore_panels, heading="Lead scoring")`` to a TabbedInterface of
your own. Pages whose model cannot change are scored by URL rules instead.
"""

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList, TabbedInterface
from wagtail.models import Page

from .models import Topic


class PageCap(models.TextChoices):
    NONE = "none", _("Every view")
    ONCE = "once", _("Once per person")
    DAILY = "daily", _("Once per person per day")


class LeadScoringPageMixin(models.Model):
    leadscore_points = models.IntegerField(
        _("points per view"), default=0,
        help_text=_("Negative for pages that signal “not a buyer”, e.g. careers: -200."),
    )
    leadscore_topics = ParentalManyToManyField(
        Topic, verbose_name=_("interest topics"), blank=True, related_name="+",
        help_text=_("A view adds the points to each of these topic scores too."),
    )
    leadscore_bonus_visit = models.PositiveIntegerField(
        _("bonus on view number"), null=True, blank=True,
        help_text=_("E.g. 5: the fifth view of this page by one person earns the bonus."),
    )
    leadscore_bonus_points = models.IntegerField(_("bonus points"), default=0)
    leadscore_cap = models.CharField(_("count views"), max_length=10, choices=PageCap.choices,
                                     default=PageCap.NONE)

    class Meta:
        abstract = True


leadscore_panels = [
    FieldPanel("leadscore_points"),
    FieldPanel("leadscore_topics", widget=forms.CheckboxSelectMultiple),
    FieldRowPanel([FieldPanel("leadscore_bonus_visit"), FieldPanel("leadscore_bonus_points")],
                  heading=_("N-th view bonus")),
    FieldPanel("leadscore_cap"),
]


def lead_scoring_edit_handler(content_panels, promote_panels=None, settings_panels=None):
    """The usual Content / Promote / Settings tabs plus a "Lead scoring" tab."""
    tabs = [
        ObjectList(content_panels, heading=_("Content")),
        ObjectList(Page.promote_panels if promote_panels is None else promote_panels,
                   heading=_("Promote")),
        ObjectList(Page.settings_panels if settings_panels is None else settings_panels,
                   heading=_("Settings")),
        ObjectList(leadscore_panels, heading=_("Lead scoring")),
    ]
    return TabbedInterface(tabs)

