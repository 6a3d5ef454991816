"""Lifecycle stages a contact moves through, from first identification to customer."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    SUBSCRIBER = "subscriber", _("Subscriber")
    LEAD = "lead", _("Lead")
    MQL = "mql", _("Marketing qualified lead")
    SAL = "sal", _("Sales accepted lead")
    SQL = "sql", _("Sales qualified lead")
    CUSTOMER = "customer", _("Customer")
    DISQUALIFIED = "disqualified", _("Disqualified")
