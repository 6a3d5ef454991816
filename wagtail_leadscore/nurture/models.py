"""Sequences (snippets with ordered steps) and enrolments: where each contact is in a
sequence and when its next step is due."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.models import Orderable

from ..scoring.models import SlugFromNameMixin


class Reenrolment(models.TextChoices):
    NEVER = "never", _("Never: once per contact")
    AFTER_END = "after_end", _("Again once the previous enrolment ended")


class Sequence(SlugFromNameMixin, ClusterableModel):
    """Steps sent on a timetable. A contact leaves on the exits (unsubscribed, inactive,
    became a lead, entered the exit segment) and at the last step."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Inactive: nobody is enrolled, no step runs."))
    frequency_cap_days = models.PositiveIntegerField(
        _("frequency cap (days)"), null=True, blank=True,
        help_text=_("At most one marketing email per this many days to a contact. Empty: "
                    "the site's cap (MAIL_FREQUENCY_CAP_DAYS); 0: no cap, for sequences "
                    "whose steps come days apart on purpose (onboarding)."))
    send_from_hour = models.PositiveSmallIntegerField(_("send from (hour)"), default=8)
    send_until_hour = models.PositiveSmallIntegerField(_("send until (hour)"), default=18)
    weekdays_only = models.BooleanField(_("on weekdays only"), default=True)
    exit_on_lead = models.BooleanField(_("leave on becoming a lead"), default=True)
    exit_segment = models.ForeignKey(
        "wagtail_leadscore.Segment", verbose_name=_("leave on entering the segment"),
        null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reenrolment = models.CharField(_("re-enrolment"), max_length=20,
                                   choices=Reenrolment.choices, default=Reenrolment.NEVER)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("nurture sequence")
        verbose_name_plural = _("nurture sequences")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if not self.send_from_hour < self.send_until_hour <= 24:
            raise ValidationError({"send_until_hour": _(
                "The window ends after it starts, at 24 at the latest.")})


class DelayFrom(models.TextChoices):
    ENROLMENT = "enrolment", _("after enrolment")
    PREVIOUS = "previous", _("after the previous email")


class StepCondition(models.TextChoices):
    ALWAYS = "always", _("always")
    CLICKED = "clicked", _("if the previous email was clicked")
    NOT_CLICKED = "not_clicked", _("if the previous email was not clicked")
    OPENED = "opened", _("if the previous email was opened")
    NOT_OPENED = "not_opened", _("if the previous email was not opened")
    IN_SEGMENT = "in_segment", _("if a member of the segment")
    NOT_IN_SEGMENT = "not_in_segment", _("if not a member of the segment")


SEGMENT_CONDITIONS = (StepCondition.IN_SEGMENT, StepCondition.NOT_IN_SEGMENT)


class SequenceStep(Orderable):
    """One email of a sequence, ``delay_days`` after enrolment or after the previous email
    sent. A step whose condition fails is skipped. Consecutive conditional steps with the
    same delay are a branch: the first whose condition holds is sent and the others are
    not ("clicked the previous email: the survey; not clicked: a reminder"; "developers:
    the API guide; everyone else: the overview")."""

    sequence = ParentalKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    email = models.ForeignKey("wagtail_leadscore.Email", verbose_name=_("email"),
                              on_delete=models.PROTECT, related_name="+")
    delay_days = models.PositiveIntegerField(_("after (days)"), default=1)
    delay_from = models.CharField(_("counted"), max_length=20, choices=DelayFrom.choices,
                                  default=DelayFrom.ENROLMENT)
    condition = models.CharField(_("sent"), max_length=20, choices=StepCondition.choices,
                                 default=StepCondition.ALWAYS)
    segment = models.ForeignKey("wagtail_leadscore.Segment", verbose_name=_("segment"),
                                null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+",
                                help_text=_("For the conditions on a segment."))

    class Meta(Orderable.Meta):
        verbose_name = _("step")
        verbose_name_plural = _("steps")

    def __str__(self):
        return f"{self.email} ({self.delay_days} d)"

    def clean(self):
        if self.condition in SEGMENT_CONDITIONS and self.segment_id is None:
            raise ValidationError({"segment": _("Choose the segment this condition asks.")})
        if self.condition not in SEGMENT_CONDITIONS and self.segment_id is not None:
            raise ValidationError({"segment": _(
                "Only the conditions on a segment use one: choose such a condition, or no "
                "segment.")})


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FINISHED = "finished", _("Finished")
    EXITED = "exited", _("Left")


class Enrolment(models.Model):
    """A contact in a sequence: ``next_step`` (a position among the steps) is due at
    ``next_run_at``; ``last_message`` is the outbox row the branches ask about."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="enrolments")
    contact = models.ForeignKey("wagtail_leadscore.Contact", on_delete=models.CASCADE,
                                related_name="enrolments")
    status = models.CharField(max_length=10, choices=EnrolmentStatus.choices,
                              default=EnrolmentStatus.ACTIVE)
    enrolled_at = models.DateTimeField(default=timezone.now)
    next_step = models.PositiveIntegerField(default=0)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_message = models.ForeignKey("wagtail_leadscore.OutboxMessage", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    exit_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [models.UniqueConstraint(
            fields=["sequence", "contact"], condition=Q(status="active"),
            name="leadscore_enrolment_one_active")]
        indexes = [models.Index(fields=["next_run_at"], condition=Q(status="active"),
                                name="leadscore_enrolment_due")]
