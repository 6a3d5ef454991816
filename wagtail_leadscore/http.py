"""JSON answers shared by the beacon and the API: errors always name the bad fields."""

import json
import math

from django import forms
from django.http import JsonResponse
from django.utils.translation import gettext as _

MAX_JSON_BODY = 1024 * 1024


class BadRequest(Exception):
    def __init__(self, errors, status=400):
        super().__init__(errors)
        self.errors = errors
        self.status = status


def error_response(errors, status=400):
    return JsonResponse({"errors": errors}, status=status)


def parse_json_body(request, max_bytes=MAX_JSON_BODY):
    if request.content_type != "application/json":
        raise BadRequest({"body": [_("Send the body as application/json.")]}, status=415)
    if len(request.body) > max_bytes:
        raise BadRequest({"body": [_("The body is larger than %(max)s bytes.") % {
            "max": max_bytes}]}, status=413)
    non_finite = NonFiniteNumbers()
    try:
        payload = json.loads(request.body, parse_constant=non_finite.mark,
                             parse_float=non_finite.parse_float)
        if non_finite.found:
            raise BadRequest(dict.fromkeys(
                non_finite.fields(payload),
                [_("Must be a finite number (NaN, Infinity and numbers beyond ±1.8e308 are "
                   "refused).")]))
        # Valid JSON may still escape a lone surrogate ("\ud800"): no text, and no
        # database (PostgreSQL) can store it.
        json.dumps(payload, ensure_ascii=False).encode()
    except UnicodeEncodeError as error:
        raise BadRequest({"body": [_("Invalid JSON: text with a lone surrogate.")]}) from error
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        message = _("Invalid JSON: %(error)s") % {"error": error}
        raise BadRequest({"body": [message[:200]]}) from error
    return payload


class NonFiniteNumbers:
    """Python's json reads NaN, Infinity and -Infinity, and 1e400 as inf; JSON has no such
    numbers and no database stores them. Parsed as a marker, so the error names the field."""

    def __init__(self):
        self.found = False

    def mark(self, text):
        self.found = True
        return self

    def parse_float(self, text):
        number = float(text)
        return self.mark(text) if math.isinf(number) else number

    def fields(self, payload):
        """The fields holding a marker, named as errors name them: ``key`` in an object,
        ``<index>.<key>`` in a batch of objects (``body`` for a bare number)."""
        found, stack = set(), [((), payload)]
        while stack:  # not recursive: as deep as the JSON parser went, whatever the stack
            path, value = stack.pop()
            if value is self:
                depth = 2 if path and isinstance(path[0], int) else 1
                found.add(".".join(map(str, path[:depth])) or "body")
            elif isinstance(value, dict):
                stack.extend(((*path, key), item) for key, item in value.items())
            elif isinstance(value, list):
                stack.extend(((*path, index), item) for index, item in enumerate(value))
        return sorted(found)


def form_errors(form, prefix=""):
    return {f"{prefix}{field}": [str(message) for message in messages]
            for field, messages in form.errors.items()}


class JSONObjectField(forms.Field):
    """A form field for a JSON object already decoded from the request body: properties
    and facts, kept shallow and free of NUL characters (which PostgreSQL's jsonb refuses)."""

    max_depth = 4

    def to_python(self, value):
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError("Must be a JSON object.")
        self.check(value, depth=1)
        return value

    def check(self, value, depth):
        if depth > self.max_depth:
            raise forms.ValidationError(f"Nested more than {self.max_depth} levels deep.")
        if isinstance(value, dict):
            for key, item in value.items():
                self.check(key, depth)
                self.check(item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                self.check(item, depth + 1)
        elif isinstance(value, str) and "\x00" in value:
            raise forms.ValidationError("Must not contain NUL characters.")
