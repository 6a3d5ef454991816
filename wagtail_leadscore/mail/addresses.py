"""Lists of email addresses typed in the admin ("sales@x.com, boss@x.com")."""

from django.core.validators import validate_email


def addresses(value):
    """The addresses of a comma (or semicolon) separated list."""
    return [part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip()]


def validate_addresses(value):
    for address in addresses(value):
        validate_email(address)
