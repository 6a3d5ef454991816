"""The one lead definition that marketing and sales share, edited under Settings."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

GRADES = ("A", "B", "C", "D")


def parse_fact_names(text):
    return tuple(name for name in re.split(r"[\s,]+", text or "") if name)


@register_setting(icon="success")
class LeadDefinition(BaseGenericSetting):
    """Generic, not per site: a contact belongs to the company, not to one of its sites."""

    min_score = models.PositiveIntegerField(
        _("engagement score at least"), default=100,
        help_text=_("Counted within the scoring window (or after decay). A contact sent back "
                    "to nurturing needs this many points earned since."),
    )
    required_facts = models.TextField(
        _("required facts"), blank=True,
        help_text=_("Contact fields or custom facts that must be known, separated by commas, "
                    "e.g. company, phone, budget."),
    )
    min_fit_grade = models.CharField(
        _("fit grade at least"), max_length=1, blank=True,
        choices=[(grade, grade) for grade in GRADES],
        help_text=_("A is the best fit. Empty: fit does not matter."),
    )

    panels = [FieldPanel("min_score"), FieldPanel("required_facts"), FieldPanel("min_fit_grade")]

    class Meta:
        verbose_name = _("lead definition")

    def clean(self):
        invalid = [name for name in parse_fact_names(self.required_facts)
                   if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)]
        if invalid:
            raise ValidationError({"required_facts": _(
                "Fact names are letters, digits and underscores: %(names)s"
            ) % {"names": ", ".join(invalid)}})

    def snapshot(self):
        return LeadCriteria(self.min_score, parse_fact_names(self.required_facts),
                            self.min_fit_grade)


@dataclass(frozen=True)
class LeadCriteria:
    min_score: int
    required_facts: tuple
    min_fit_grade: str

    def missing(self, contact, score):
        """What keeps ``contact`` (with this engagement ``score``) from being a lead; an
        empty list when it is one."""
        reasons = []
        if score < self.min_score:
            reasons.append(_("score %(score)s is below %(min)s")
                           % {"score": score, "min": self.min_score})
        for name in self.required_facts:
            known = getattr(contact, name, None) if name in contact.PROFILE_FIELDS \
                else contact.facts.get(name)
            if known in (None, "", [], {}):
                reasons.append(_("%(fact)s is unknown") % {"fact": name})
        if self.min_fit_grade and contact.fit_grade > self.min_fit_grade:
            reasons.append(_("fit grade %(grade)s is below %(min)s")
                           % {"grade": contact.fit_grade, "min": self.min_fit_grade})
        return reasons
