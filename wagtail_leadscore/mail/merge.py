"""Merge fields: ``{{ first_name }}`` or ``{{ company | your company }}`` (after the bar: what
to write when the contact has no such fact). Values are escaped in HTML; an unknown name or
an empty value gives the default, never the raw tag."""

import re

from django.utils.html import escape

MERGE_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|([^{}]*))?\}\}")


def contact_value(contact, name):
    from ..models import Contact

    if name == "email" or name in Contact.PROFILE_FIELDS:
        value = getattr(contact, name)
    else:
        value = (contact.facts or {}).get(name)
    # One line: a value never starts a new header line or paragraph.
    return "" if value is None else " ".join(str(value).split())


def merge(text, contact, html=False):
    """``text`` with its merge fields filled from ``contact``."""

    def fill(match):
        value = contact_value(contact, match.group(1))
        if not value:  # the default is the editor's own text (already HTML in HTML)
            return (match.group(2) or "").strip()
        return escape(value) if html else value

    return MERGE_FIELD.sub(fill, text)
