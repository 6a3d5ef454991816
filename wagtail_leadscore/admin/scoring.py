"""Topics, scoring rules and fit rules as snippets: marketers edit the scoring as data.

Bad input (an invalid regular expression, a trigger without the value it needs) is caught
by the models' ``clean()`` and shown as a form error on the field.
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, PageChooserPanel
from wagtail.snippets.views.snippets import SnippetViewSet

from ..scoring.models import FitRule, ScoringRule, Topic
from .choosers import PageEditorChooserViewSet, PermittedChooserViewSet


class TopicViewSet(SnippetViewSet):
    chooser_viewset_class = PageEditorChooserViewSet
    model = Topic
    icon = "tag"
    list_display = ["name", "slug"]
    search_fields = ["name"]
    search_backend_name = None  # plain database search: no index to keep up to date
    panels = [FieldPanel("name"), FieldPanel("slug")]


class ScoringRuleViewSet(SnippetViewSet):
    chooser_viewset_class = PermittedChooserViewSet
    model = ScoringRule
    icon = "sliders"
    list_display = ["name", "trigger", "points", "is_active"]
    list_filter = ["trigger", "is_active"]
    search_fields = ["name"]
    search_backend_name = None
    panels = [
        FieldPanel("name"),
        FieldPanel("is_active"),
        MultiFieldPanel([
            FieldPanel("trigger"),
            FieldPanel("value"),
            PageChooserPanel("page"),
            FieldPanel("answer"),
        ], heading=_("Trigger")),
        MultiFieldPanel([
            FieldPanel("points"),
            FieldPanel("feeds_global"),
            FieldPanel("topics", widget=forms.CheckboxSelectMultiple),
            FieldPanel("feeds_stage"),
        ], heading=_("Points")),
        MultiFieldPanel([
            FieldPanel("cap"),
            FieldRowPanel([FieldPanel("cap_count"), FieldPanel("cap_period_days")]),
            FieldRowPanel([FieldPanel("bonus_occurrence"), FieldPanel("bonus_points")]),
        ], heading=_("Caps and bonus")),
    ]


class FitRuleViewSet(SnippetViewSet):
    chooser_viewset_class = PermittedChooserViewSet
    model = FitRule
    icon = "crosshairs"
    list_display = ["name", "fact", "operator", "value", "points", "is_active"]
    list_filter = ["operator", "is_active"]
    search_fields = ["name", "fact"]
    search_backend_name = None
    panels = [
        FieldPanel("name"),
        FieldPanel("is_active"),
        MultiFieldPanel([
            FieldPanel("fact"),
            FieldPanel("operator"),
            FieldRowPanel([FieldPanel("value"), FieldPanel("value_to")]),
        ], heading=_("Condition")),
        FieldPanel("points"),
    ]
