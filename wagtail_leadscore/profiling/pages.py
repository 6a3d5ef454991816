"""Page mixins: ``GatedPageMixin`` (a page's content behind a progressive form) and
``ProgressiveFormPageMixin``: Wagtail's form builder (``AbstractForm``,
``AbstractEmailForm``), progressive. Form fields named like a standard question (``email``,
``first_name``, ``company``, ``company_size``, ...) are asked only while unanswered, a few
at a time; other fields are always asked. Submissions are stored by Wagtail as usual and
recorded like a ``ProgressiveFormBlock``'s."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField

from ..blocks.progressive_form import ProgressiveFormBlock
from .gates import ACCESS_CHOICES, FREE, open_gate
from .questions import CONSENT, STANDARD_QUESTIONS, questions_to_ask
from .visitors import known_answers, known_contact, mark_personalised

# A form-builder submission's ProfileSubmission token: this prefix and Wagtail's pk.
FORM_BUILDER_TOKEN = "page-"


class ProgressiveFormPageMixin(models.Model):
    """Put it before ``AbstractEmailForm`` in the bases; add ``progressive_form_panels``."""

    leadscore_questions_per_submission = models.PositiveSmallIntegerField(
        _("new profile questions per submission"), null=True, blank=True, help_text=_(
            "Of the fields named like a profile question (first_name, company, ...), how "
            "many unanswered ones to ask at a time. Empty: all of them."))

    class Meta:
        abstract = True

    def serve(self, request, *args, **kwargs):
        # get_form() has no request: it reads what the asker may be shown from here.
        self.leadscore_answers = known_answers(request)
        mark_personalised(request)
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        """Adds ``leadscore_contact`` (a verified browser's contact) and ``leadscore_email``
        (the address this browser gave), for the "Not you?" form: include
        ``wagtail_leadscore/includes/not_you.html`` with ``contact=leadscore_contact
        email=leadscore_email``."""
        context = super().get_context(request, *args, **kwargs)
        context["leadscore_contact"] = known_contact(request)
        context["leadscore_email"] = known_answers(request).get("email", "")
        return context

    def get_form(self, *args, **kwargs):
        form = super().get_form(*args, **kwargs)
        answers = getattr(self, "leadscore_answers", {})
        queue = [STANDARD_QUESTIONS[name] for name in form.fields
                 if name in STANDARD_QUESTIONS and name != "email"]
        asked = {question.key for question in questions_to_ask(
            queue, answers, self.leadscore_questions_per_submission or len(queue) or 1)}
        for question in queue:
            if question.key not in asked:
                del form.fields[question.key]
        if answers.get("email"):
            form.fields.pop("email", None)
        return form

    def render_landing_page(self, request, form_submission=None, *args, **kwargs):
        # Wagtail calls this with the request only after a valid submission was stored
        # (and without one for the admin's landing-page preview).
        if form_submission is not None:
            from .submit import record_profile

            answers = {key: value for key, value in form_submission.form_data.items()
                       if value not in (None, "", [])}
            record_profile(
                request, self, form_id=self.slug, name=self.title, answers=answers,
                facts={key: value for key, value in answers.items()
                       if key in STANDARD_QUESTIONS and key != "email"
                       and STANDARD_QUESTIONS[key].kind != CONSENT},
                consent_text="", token=f"{FORM_BUILDER_TOKEN}{form_submission.pk}")
        return super().render_landing_page(request, form_submission, *args, **kwargs)


progressive_form_panels = [FieldPanel("leadscore_questions_per_submission")]


class GatedPageMixin(models.Model):
    """Gating for a whole page: the editor picks the access (free, free with a "notify me"
    form, teaser, gated), what the teaser shows (the first blocks, or a text) and the
    progressive form. The
    gated content is the StreamField named by ``gated_content_field`` ("body"); the page's
    context gets ``leadscore_gate`` (see ``profiling.gates.open_gate``) to render it:

        {% for block in leadscore_gate.shown %}{% include_block block %}{% endfor %}
        {% if leadscore_gate.show_form %}{% include_block leadscore_gate.form %}{% endif %}
    """

    leadscore_access = models.CharField(_("access"), max_length=12,
                                        choices=ACCESS_CHOICES, default=FREE)
    leadscore_teaser_blocks = models.PositiveSmallIntegerField(
        _("blocks shown as the teaser"), default=1)
    leadscore_teaser_text = models.TextField(
        _("teaser text"), blank=True, help_text=_("Shown instead of the first blocks."))
    leadscore_gate_form = StreamField(
        [("form", ProgressiveFormBlock())], blank=True, max_num=1, verbose_name=_("form"),
        help_text=_("The form that unlocks the page (all but “free”)."))

    gated_content_field = "body"

    class Meta:
        abstract = True

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        form = self.leadscore_gate_form[0] if self.leadscore_gate_form else None
        access = self.leadscore_access if form is not None else FREE
        context["leadscore_gate"] = {
            **open_gate(request, self, access=access,
                        content=list(getattr(self, self.gated_content_field)),
                        form_value=form.value if form is not None else None,
                        teaser_blocks=self.leadscore_teaser_blocks,
                        teaser_text=self.leadscore_teaser_text),
            "form": form,
        }
        return context


gated_page_panels = [
    MultiFieldPanel([FieldPanel("leadscore_access"), FieldPanel("leadscore_teaser_blocks"),
                     FieldPanel("leadscore_teaser_text"), FieldPanel("leadscore_gate_form")],
                    heading=_("Gating")),
]
