"""The questions a progressive form can ask, and which of them to ask whom.

A question stores its answer in a Contact profile field (``company``) or, for anything
else, in ``Contact.facts`` under its key (``budget``, a custom question's key).
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

TEXT, EMAIL, CHOICE, NUMBER, YES_NO, CONSENT = (
    "text", "email", "choice", "number", "yes_no", "consent")


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    kind: str = TEXT
    choices: tuple = ()
    required: bool = True
    max_length: int = 200
    autocomplete: str = ""
    help_text: str = field(default="", compare=False)


STANDARD_QUESTIONS = {question.key: question for question in (
    Question("email", _("Email"), EMAIL, max_length=254, autocomplete="email"),
    Question("first_name", _("First name"), max_length=150, autocomplete="given-name"),
    Question("last_name", _("Last name"), max_length=150, autocomplete="family-name"),
    Question("company", _("Company"), autocomplete="organization"),
    Question("company_size", _("Company size"), CHOICE, choices=(
        ("1-9", "1-9"), ("10-49", "10-49"), ("50-249", "50-249"), ("250+", "250+")),
        max_length=50),
    Question("phone", _("Phone"), max_length=50, autocomplete="tel"),
    Question("job_title", _("Job title"), autocomplete="organization-title"),
    Question("industry", _("Industry"), max_length=100),
    Question("country", _("Country"), max_length=100, autocomplete="country-name"),
    Question("budget", _("Budget"), CHOICE, choices=(
        ("under-50k", _("under 50,000")), ("50k-200k", _("50,000 to 200,000")),
        ("over-200k", _("over 200,000")))),
    Question("purchase_timeframe", _("When do you plan to buy?"), CHOICE, choices=(
        ("3-months", _("within 3 months")), ("year", _("within a year")),
        ("later", _("later")))),
    Question("consent", _("Consent"), CONSENT),
)}
STANDARD_CHOICES = [(key, question.label) for key, question in STANDARD_QUESTIONS.items()
                    if key != "email"]


def known_answer(answers, question):
    """The answer to ``question`` among ``answers`` (by key; "" if none)."""
    value = answers.get(question.key, "")
    return "" if value is None else value


def questions_to_ask(queue, answers, per_submission, show_known=False):
    """The questions of this form for whoever gave ``answers`` (what they may be shown:
    ``profiling.visitors.known_answers``): email if not among them, then the first
    ``per_submission`` questions of ``queue`` not answered yet. With ``show_known`` the
    answered questions before them are shown too, prefilled."""
    asked = [] if answers.get("email") else [STANDARD_QUESTIONS["email"]]
    new = 0
    for question in queue:
        if question.key == "email":
            continue
        if known_answer(answers, question) not in ("", None, False):
            if show_known and new < per_submission:
                asked.append(question)
            continue
        if new < per_submission:
            asked.append(question)
            new += 1
    return asked
