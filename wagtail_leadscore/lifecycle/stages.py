"""The stages a person moves through, from anonymous visitor to customer."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """In funnel order. Anonymous and engaged are stages of visitors (no contact yet);
    a contact starts as a prospect. Nurture (sent back by sales) and disqualified are
    off the main line."""

    ANONYMOUS = "anonymous", _("Anonymous")
    ENGAGED = "engaged", _("Engaged")
    PROSPECT = "prospect", _("Prospect")
    LEAD = "lead", _("Lead (MQL)")
    SAL = "sal", _("Sales accepted (SAL)")
    SQL = "sql", _("Sales qualified (SQL)")
    CUSTOMER = "customer", _("Customer")
    NURTURE = "nurture", _("Nurture")
    DISQUALIFIED = "disqualified", _("Disqualified")


CONTACT_STAGES = [choice for choice in Stage.choices
                  if choice[0] not in (Stage.ANONYMOUS, Stage.ENGAGED)]
# The lead definition can turn only these into leads; sales decides about the others.
QUALIFIABLE_STAGES = (Stage.PROSPECT, Stage.NURTURE)
# Leads sales has not closed yet, and the contacts sales confirmed (what insights learn from).
OPEN_LEAD_STAGES = (Stage.LEAD, Stage.SAL, Stage.SQL)
CONFIRMED_STAGES = (Stage.SAL, Stage.SQL, Stage.CUSTOMER)
LEAD_STAGES = (Stage.LEAD, *CONFIRMED_STAGES)


class Engagement(models.TextChoices):
    """How recently a contact did anything (``lifecycle.engagement``)."""

    ACTIVE = "active", _("Active")
    COOLING = "cooling", _("Cooling")
    INACTIVE = "inactive", _("Inactive")
