"""The Django form of a progressive form block: its questions, a honeypot and a signed
render token (minimum fill time, expiry, one submission per render)."""

import secrets
import time

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from ..conf import get_setting
from .questions import CHOICE, CONSENT, EMAIL, NUMBER, YES_NO

FORM_TOKEN_SALT = "wagtail_leadscore.form"
HONEYPOT_FIELD = "leadscore_hp"
TOKEN_FIELD = "leadscore_token"
BLOCK_FIELD = "leadscore_form"


def form_field(question, consent_text=""):
    common = {"label": question.label, "required": question.required,
              "help_text": question.help_text}
    if question.kind == EMAIL:
        field = forms.EmailField(max_length=question.max_length, **common)
    elif question.kind == CHOICE:
        field = forms.ChoiceField(choices=[("", "---------"), *question.choices], **common)
    elif question.kind == NUMBER:
        field = forms.IntegerField(min_value=0, max_value=10**12, **common)
    elif question.kind == YES_NO:
        field = forms.TypedChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))],
                                       widget=forms.RadioSelect, **common)
    elif question.kind == CONSENT:
        field = forms.BooleanField(**{**common, "label": consent_text or question.label,
                                      "required": True})
    else:
        field = forms.CharField(max_length=question.max_length, **common)
    if question.autocomplete:
        field.widget.attrs["autocomplete"] = question.autocomplete
    return field


def make_form_token(block_id):
    return signing.dumps({"b": block_id, "t": time.time(), "n": secrets.token_urlsafe(12)},
                         salt=FORM_TOKEN_SALT)


def token_nonce(token, block_id):
    """The nonce of a genuine render token of this block (expired or not), else None."""
    try:
        claims = signing.loads(token or "", salt=FORM_TOKEN_SALT)
    except signing.BadSignature:
        return None
    return claims.get("n") if isinstance(claims, dict) and claims.get("b") == block_id else None


class ProgressiveForm(forms.Form):
    """``questions`` become fields named by their keys; ``initial`` prefills them."""

    def __init__(self, questions, block_id, *args, consent_text="", **kwargs):
        # Field ids of their own: a page may show several forms.
        kwargs.setdefault("auto_id", f"id_{block_id[:8]}_%s")
        super().__init__(*args, **kwargs)
        self.block_id = block_id
        self.questions = {question.key: question for question in questions}
        for question in questions:
            self.fields[question.key] = form_field(question, consent_text)
        self.fields[HONEYPOT_FIELD] = forms.CharField(required=False, label=_(
            "Leave this field empty"))
        self.fields[TOKEN_FIELD] = forms.CharField(widget=forms.HiddenInput)
        self.fields[BLOCK_FIELD] = forms.CharField(widget=forms.HiddenInput)
        if not self.is_bound:
            self.initial.update({TOKEN_FIELD: make_form_token(block_id),
                                 BLOCK_FIELD: block_id})

    def question_fields(self):
        """The questions' bound fields; one with errors names them (aria-describedby)."""
        fields = [self[key] for key in self.questions]
        for field in fields:
            if field.errors:
                field.field.widget.attrs["aria-describedby"] = f"{field.auto_id}_error"
        return fields

    def token_to_render(self):
        """The bound token while it is good, so that a form resent after fixing an answer
        is still one submission; a fresh one in place of an expired or broken one."""
        if self.is_bound and TOKEN_FIELD not in self.errors and self.data.get(TOKEN_FIELD):
            return self.data[TOKEN_FIELD]
        if self.is_bound:
            return make_form_token(self.block_id)
        return self.initial[TOKEN_FIELD]

    def clean_leadscore_hp(self):
        if self.cleaned_data[HONEYPOT_FIELD]:
            raise forms.ValidationError(_("This submission could not be accepted."))
        return ""

    def clean_leadscore_token(self):
        """The render token: this block's, not tampered with, old enough (a person takes
        a few seconds) and not expired. Its nonce makes a resent form count once."""
        max_age = get_setting("FORM_TOKEN_MAX_AGE")
        try:
            claims = signing.loads(self.cleaned_data[TOKEN_FIELD], salt=FORM_TOKEN_SALT,
                                   max_age=max_age)
        except signing.SignatureExpired:
            raise forms.ValidationError(_(
                "This form has expired. Please check your answers and send it again."),
                code="expired") from None
        except signing.BadSignature:
            raise forms.ValidationError(_("This form is invalid. Please reload the page."),
                                        code="invalid") from None
        if not isinstance(claims, dict) or claims.get("b") != self.block_id:
            raise forms.ValidationError(_("This form is invalid. Please reload the page."),
                                        code="invalid")
        if time.time() - claims.get("t", 0) < get_setting("FORM_MIN_SECONDS"):
            raise forms.ValidationError(_(
                "That was very fast. Please check your answers and send the form again."),
                code="too_fast")
        return claims["n"]

    def answers(self):
        """The cleaned answers to the questions, by key."""
        return {key: self.cleaned_data[key] for key in self.questions
                if self.cleaned_data.get(key) not in (None, "")}
