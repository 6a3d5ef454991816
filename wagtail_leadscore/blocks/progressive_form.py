"""``ProgressiveFormBlock``: a form for any StreamField that asks a few new questions at a
time. The page's own URL receives it (``profiling.submit``), so it works without
JavaScript and behind the page's view restrictions."""

from dataclasses import replace

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError

from ..profiling.forms import ProgressiveForm
from ..profiling.questions import (
    CHOICE,
    NUMBER,
    STANDARD_CHOICES,
    STANDARD_QUESTIONS,
    TEXT,
    YES_NO,
    Question,
    known_answer,
    questions_to_ask,
)
from ..profiling.visitors import known_answers, known_contact, mark_personalised

SHOW_KNOWN = "prefill"


class StandardQuestionBlock(blocks.StructBlock):
    question = blocks.ChoiceBlock(choices=STANDARD_CHOICES, label=_("question"))
    required = blocks.BooleanBlock(default=True, required=False, label=_("required"))

    class Meta:
        icon = "form"
        label = _("Question")

    def to_question(self, value):
        return replace(STANDARD_QUESTIONS[value["question"]], required=bool(value["required"]))


class CustomQuestionBlock(blocks.StructBlock):
    label = blocks.CharBlock(max_length=200, label=_("question"))
    key = blocks.CharBlock(max_length=40, label=_("key"), help_text=_(
        "Where the answer is kept among the contact's facts, e.g. “roof_type”."))
    kind = blocks.ChoiceBlock(choices=[(TEXT, _("Text")), (CHOICE, _("Choice")),
                                       (NUMBER, _("Number")), (YES_NO, _("Yes / no"))],
                              default=TEXT, label=_("type"))
    choices = blocks.TextBlock(required=False, label=_("choices"),
                               help_text=_("For a choice: one option per line."))
    required = blocks.BooleanBlock(default=True, required=False, label=_("required"))

    class Meta:
        icon = "edit"
        label = _("Custom question")

    def clean(self, value):
        value = super().clean(value)
        errors = {}
        try:
            validate_slug(value["key"])
        except ValidationError:
            errors["key"] = ValidationError(_("Letters, digits, “_” and “-” only."))
        if value["key"] in STANDARD_QUESTIONS:
            errors["key"] = ValidationError(_("That is a standard question's key."))
        if value["kind"] == CHOICE and not self.options(value):
            errors["choices"] = ValidationError(_("A choice needs at least one option."))
        if errors:
            raise StructBlockValidationError(block_errors=errors)
        return value

    def options(self, value):
        return [line.strip() for line in (value["choices"] or "").splitlines() if line.strip()]

    def to_question(self, value):
        options = tuple((option, option) for option in self.options(value))
        return Question(value["key"], value["label"], value["kind"], choices=options,
                        required=bool(value["required"]))


class ProgressiveFormBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=200, label=_("heading"))
    questions = blocks.StreamBlock(
        [("question", StandardQuestionBlock()), ("custom_question", CustomQuestionBlock())],
        label=_("questions, in the order to ask them"), help_text=_(
            "Email is always asked of a visitor not known yet."))
    questions_per_submission = blocks.IntegerBlock(
        default=2, min_value=1, max_value=10, label=_("new questions per submission"))
    known_answers = blocks.ChoiceBlock(
        choices=[("skip", _("Never ask again")), (SHOW_KNOWN, _("Show them prefilled"))],
        default="skip", label=_("questions already answered"))
    consent_text = blocks.TextBlock(required=False, label=_("consent wording"), help_text=_(
        "The label of the “Consent” question, stored with each submission."))
    button_text = blocks.CharBlock(default=_("Send"), max_length=60, label=_("button text"))
    success_message = blocks.TextBlock(required=False, label=_("success message"))
    redirect_to = blocks.PageChooserBlock(required=False, label=_("then go to"))

    class Meta:
        icon = "form"
        label = _("Progressive form")
        template = "wagtail_leadscore/blocks/progressive_form.html"

    def queue(self, value):
        return [child.block.to_question(child.value) for child in value["questions"]]

    def make_form(self, value, block_id, answers, data=None):
        """The form for whoever gave ``answers`` (``profiling.visitors.known_answers``)."""
        questions = questions_to_ask(self.queue(value), answers,
                                     value["questions_per_submission"],
                                     show_known=value["known_answers"] == SHOW_KNOWN)
        form = ProgressiveForm(questions, block_id, data=data,
                               consent_text=value["consent_text"])
        if data is None:
            form.initial.update({question.key: known_answer(answers, question)
                                 for question in questions})
        return form

    def get_context(self, value, parent_context=None):
        from ..profiling.submit import SENT_PARAM, find_form_block_id

        context = super().get_context(value, parent_context)
        request, page = context.get("request"), context.get("page")
        block_id = find_form_block_id(page, value) if page is not None else None
        if request is None or block_id is None:
            return {**context, "form": None}
        mark_personalised(request)
        answers = known_answers(request)
        form = getattr(request, "leadscore_forms", {}).get(block_id) or self.make_form(
            value, block_id, answers)
        return {**context, "form": form, "contact": known_contact(request),
                "email": answers.get("email", ""), "block_id": block_id,
                "sent": request.method == "GET" and request.GET.get(SENT_PARAM) == block_id}
