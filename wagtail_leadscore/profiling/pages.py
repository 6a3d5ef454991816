"""``ProgressiveFormPageMixin``: Wagtail's form builder (``AbstractForm``,
``AbstractEmailForm``), progressive. Form fields named like a standard question (``email``,
``first_name``, ``company``, ``company_size``, ...) are asked only while unanswered, a few
at a time; other fields are always asked. Submissions are stored by Wagtail as usual and
recorded like a ``ProgressiveFormBlock``'s."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

from .questions import CONSENT, STANDARD_QUESTIONS, questions_to_ask
from .visitors import known_contact, mark_personalised


class ProgressiveFormPageMixin(models.Model):
    """Put it before ``AbstractEmailForm`` in the bases; add ``progressive_form_panels``."""

    leadscore_questions_per_submission = models.PositiveSmallIntegerField(
        _("new profile questions per submission"), null=True, blank=True, help_text=_(
            "Of the fields named like a profile question (first_name, company, ...), how "
            "many unanswered ones to ask at a time. Empty: all of them."))

    class Meta:
        abstract = True

    def serve(self, request, *args, **kwargs):
        # get_form() has no request: it reads who is asking from here.
        self.leadscore_contact = known_contact(request)
        mark_personalised(request)
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        """Adds ``leadscore_contact``, for the "Not you?" form: include
        ``wagtail_leadscore/includes/not_you.html`` with ``contact=leadscore_contact``."""
        context = super().get_context(request, *args, **kwargs)
        context["leadscore_contact"] = known_contact(request)
        return context

    def get_form(self, *args, **kwargs):
        form = super().get_form(*args, **kwargs)
        contact = getattr(self, "leadscore_contact", None)
        queue = [STANDARD_QUESTIONS[name] for name in form.fields
                 if name in STANDARD_QUESTIONS and name != "email"]
        asked = {question.key for question in questions_to_ask(
            queue, contact, self.leadscore_questions_per_submission or len(queue) or 1)}
        for question in queue:
            if question.key not in asked:
                del form.fields[question.key]
        if contact is not None:
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
                consent_text="", token=f"page-{form_submission.pk}")
        return super().render_landing_page(request, form_submission, *args, **kwargs)


progressive_form_panels = [FieldPanel("leadscore_questions_per_submission")]
