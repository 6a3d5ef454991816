"""JSON answers shared by the beacon and the API: errors always name the bad fields."""

import json

from django import forms
from django.http import JsonResponse

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
        raise BadRequest({"body": ["Send the body as application/json."]}, status=415)
    if len(request.body) > max_bytes:
        raise BadRequest({"body": [f"The body is larger than {max_bytes} bytes."]}, status=413)
    try:
        payload = json.loads(request.body)
        # Valid JSON may still escape a lone surrogate ("\ud800"): no text, and no
        # database (PostgreSQL) can store it.
        json.dumps(payload, ensure_ascii=False).encode()
    except UnicodeEncodeError as error:
        raise BadRequest({"body": ["Invalid JSON: text with a lone surrogate."]}) from error
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise BadRequest({"body": [f"Invalid JSON: {error}"[:200]]}) from error
    return payload


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
