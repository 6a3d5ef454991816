"""Automation rules (snippets: a trigger, conditions and actions stored as data) and their
runs: one per rule and event, so a retried event runs a rule once."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.fields import StreamField

from ..conf import get_setting
from ..segments.models import MATCH_CHOICES, segment_condition_blocks
from .actions import (
    AssignOwnerAction,
    NotifySalesAction,
    PointsAction,
    SendEmailAction,
    SequenceAction,
    SetStageAction,
    TagAction,
    WaitAction,
    WebhookAction,
)
from .triggers import automation_trigger_choices, validate_trigger


def action_blocks():
    """The action types: the built-in ones, then the AUTOMATION_ACTION_TYPES setting's."""
    types = [
        ("send_email", SendEmailAction()),
        ("notify_sales", NotifySalesAction()),
        ("tag", TagAction()),
        ("points", PointsAction()),
        ("set_stage", SetStageAction()),
        ("assign_owner", AssignOwnerAction()),
        ("sequence", SequenceAction()),
        ("webhook", WebhookAction()),
        ("wait", WaitAction()),
    ]
    types.extend((name, import_string(path)())
                 for name, path in get_setting("AUTOMATION_ACTION_TYPES").items())
    return types


class AutomationRuleForm(WagtailAdminModelForm):
    # Choices read per form: other apps register triggers with a hook.
    trigger = forms.ChoiceField(label=_("trigger"), choices=automation_trigger_choices)


class Repeat(models.TextChoices):
    EVERY_TIME = "every_time", _("Every time the trigger fires")
    ONCE = "once", _("Once per contact")


class AutomationRule(models.Model):
    """When ``trigger`` fires for a contact and the conditions hold, run the actions."""

    base_form_class = AutomationRuleForm

    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(_("trigger"), max_length=40)
    value = models.CharField(_("value"), max_length=500, blank=True, help_text=_(
        "What the trigger looks for: a form, URL, event or segment name, a stage, points."))
    answer = models.CharField(_("answer"), max_length=200, blank=True,
                              help_text=_("For “form answer”: the answer (any when empty)."))
    repeat = models.CharField(_("runs"), max_length=20, choices=Repeat.choices,
                              default=Repeat.EVERY_TIME)
    match = models.CharField(_("match"), max_length=10, choices=MATCH_CHOICES, default="all")
    conditions = StreamField(segment_condition_blocks(), blank=True,
                             verbose_name=_("conditions"),
                             help_text=_("Asked of the contact when the trigger fires; "
                                         "none: always."))
    actions = StreamField(action_blocks(), verbose_name=_("actions"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = validate_trigger(self)
        if not self.actions:
            errors["actions"] = _("Add at least one action.")
        if errors:
            raise ValidationError(errors)
        from .engine import probe_conditions

        probe_conditions(self)


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    WAITING = "waiting", _("Waiting")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Conditions not met")
    FAILED = "failed", _("Failed")


class AutomationRun(models.Model):
    """One rule fired for one contact by one event (or a time trigger's occurrence);
    ``next_action`` is where a wait left off. ``resume_at``: when a waiting run goes on, or
    when a running one's lease ends."""

    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="runs")
    contact = models.ForeignKey("wagtail_leadscore.Contact", on_delete=models.CASCADE,
                                related_name="automation_runs")
    event = models.ForeignKey("wagtail_leadscore.Event", null=True, on_delete=models.SET_NULL,
                              related_name="+", db_constraint=False)
    # What fired a rule that time fires (no event): the quiet spell, message or year.
    occurrence = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices,
                              default=RunStatus.RUNNING)
    next_action = models.PositiveIntegerField(default=0)
    resume_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("automation run")
        verbose_name_plural = _("automation runs")
        constraints = [
            models.UniqueConstraint(fields=["rule", "event"], condition=Q(event__isnull=False),
                                    name="leadscore_run_once_per_event"),
            models.UniqueConstraint(fields=["rule", "contact", "occurrence"],
                                    condition=~Q(occurrence=""),
                                    name="leadscore_run_once_per_occurrence"),
        ]
        indexes = [models.Index(fields=["resume_at"],
                                condition=Q(status__in=["waiting", "running"]),
                                name="leadscore_run_due"),
                   models.Index(fields=["rule", "contact"], name="leadscore_run_contact")]

    def action_key(self, position):
        """The idempotency key of this run's action at ``position`` (outbox rows)."""
        return f"auto:{self.pk}:{position}"
