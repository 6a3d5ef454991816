"""Records from outside (the HTTP API, CSV imports) validated field by field, then stored.

Both callers share these forms, so a CSV row and an API payload fail with the same
messages naming the same fields.
"""

import hashlib
import json
from datetime import UTC, datetime, timedelta

from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .events import event_types, record_event_or_defer
from .http import JSONObjectField, form_errors
from .identity import identify_contact
from .lifecycle.stages import CONTACT_STAGES
from .lifecycle.transitions import change_stage
from .models import Contact, normalize_email

# An imported event is dated from the Unix epoch to this far in the future (clock skew).
EARLIEST_EVENT_TIME = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)


def validate_event_time(value):
    """Dates every database stores and every reader reads back: PostgreSQL keeps
    ``0001-01-01T00:00:00+14:00`` as a year BC that Python cannot load."""
    if not EARLIEST_EVENT_TIME <= value <= timezone.now() + FUTURE_TOLERANCE:
        raise forms.ValidationError(_("Must be between 1970-01-01 and one day from now."))


class ContactRecordForm(forms.Form):
    email = forms.EmailField(max_length=254)
    facts = JSONObjectField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in Contact.PROFILE_FIELDS:
            model_field = Contact._meta.get_field(name)
            self.fields[name] = forms.CharField(max_length=model_field.max_length, required=False)

    def contact_facts(self):
        facts = dict(self.cleaned_data.get("facts") or {})
        facts.update({name: self.cleaned_data[name] for name in Contact.PROFILE_FIELDS})
        return facts

    def save(self, via):
        return identify_contact(None, self.cleaned_data["email"], self.contact_facts(), via=via)


class EventRecordForm(ContactRecordForm):
    """An event of the contact with ``email``, who is created if unknown."""

    type = forms.ChoiceField()
    name = forms.CharField(max_length=200, required=False)
    occurred_at = forms.DateTimeField(required=False, validators=[validate_event_time])
    path = forms.CharField(max_length=2048, required=False)
    properties = JSONObjectField(required=False)
    id = forms.CharField(max_length=100, required=False, help_text="Your id, for idempotency.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(t.name, t.label) for t in event_types]

    def clean(self):
        data = super().clean()
        if data.get("type") == "purchase":
            amount = (data.get("properties") or {}).get("amount")
            if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
                self.add_error("properties", "A purchase needs an amount: a number, at least 0.")
        return data

    def save(self, via):
        contact = super().save(via)
        data = self.cleaned_data
        return record_event_or_defer(
            data["type"],
            contact=contact,
            name=data["name"],
            path=data["path"],
            properties=data["properties"],
            occurred_at=data["occurred_at"],
            dedupe_key=self.dedupe_key(),
        )

    def dedupe_key(self):
        """A given id, or for a dated event a hash of all it says: re-imports add nothing,
        two different rows (another booth, another day) are two events."""
        data = self.cleaned_data
        if data["id"]:
            return f"ext:{data['id']}"
        if data["occurred_at"]:
            identity = json.dumps(
                [normalize_email(data["email"]), data["type"], data["name"], data["path"],
                 data["occurred_at"].isoformat(), data["properties"]],
                sort_keys=True, cls=DjangoJSONEncoder,
            )
            return "import:" + hashlib.sha256(identity.encode()).hexdigest()[:40]
        return None


class StageRecordForm(forms.Form):
    """A stage sales decided for a known contact (e.g. sql, customer, disqualified)."""

    email = forms.EmailField(max_length=254)
    stage = forms.ChoiceField(choices=CONTACT_STAGES)
    reason = forms.CharField(max_length=500, required=False)

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        self.contact = Contact.objects.filter(email=email).first()
        if self.contact is None:
            raise forms.ValidationError("No contact has this address.")
        return email

    def save(self, via):
        change_stage(self.contact, self.cleaned_data["stage"], reason=self.cleaned_data["reason"],
                     via=via)
        return self.contact


def validate_record(form_class, record, prefix=""):
    """The bound form, and the errors by field name (unknown and non-scalar fields too)."""
    if not isinstance(record, dict):
        return form_class({}), {prefix.rstrip(".") or "body": ["Must be a JSON object."]}
    fields = form_class().fields  # with the fields added in __init__
    errors = {}
    for key, value in record.items():
        field = fields.get(key)
        if field is None:
            errors[f"{prefix}{key}"] = ["Unknown field."]
        elif not isinstance(field, JSONObjectField) and not is_plain_value(field, value):
            errors[f"{prefix}{key}"] = ["Must be a string."]
    # The refused values stay out of the form; every other bad field is named too.
    form = form_class({key: value for key, value in record.items()
                       if f"{prefix}{key}" not in errors})
    if not form.is_valid():
        errors = {**form_errors(form, prefix), **errors}
    return form, errors


def is_plain_value(field, value):
    """A string (or null); numbers too for text fields, e.g. a phone or a company size."""
    if value is None or isinstance(value, str):
        return True
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return is_number and type(field) is forms.CharField


def validate_batch(form_class, records):
    """Validate every record; the forms, and the errors keyed ``<index>.<field>``."""
    forms_, errors = [], {}
    for index, record in enumerate(records):
        form, record_errors = validate_record(form_class, record, prefix=f"{index}.")
        forms_.append(form)
        errors.update(record_errors)
    return forms_, errors


def save_batch(valid_forms, via):
    with transaction.atomic():
        return [form.save(via) for form in valid_forms]
