"""POST contacts and events as JSON: one object, or a list of up to API_MAX_BATCH.

A batch is all or nothing: any invalid record gives a 400 naming ``<index>.<field>``
and nothing is stored.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..conf import get_setting
from ..http import BadRequest, error_response, parse_json_body
from ..ingest import (
    ContactRecordForm,
    EventRecordForm,
    StageRecordForm,
    save_batch,
    validate_batch,
    validate_record,
)
from ..models import DeferredEvent
from ..ratelimit import rate_limited
from .auth import api_key_required


def batch_endpoint(form_class, serialize):
    @csrf_exempt  # Authenticated by API key, not by a browser session.
    @require_POST
    @rate_limited("api", "API_RATE_LIMIT")  # before the key check: guessing keys is slow too
    @api_key_required
    def view(request):
        try:
            payload = parse_json_body(request)
        except BadRequest as error:
            return error_response(error.errors, status=error.status)
        if isinstance(payload, list):
            if not payload:
                return error_response({"body": ["Send at least one record."]})
            if len(payload) > get_setting("API_MAX_BATCH"):
                return error_response(
                    {"body": [f"At most {get_setting('API_MAX_BATCH')} records per request."]}
                )
            forms, errors = validate_batch(form_class, payload)
        else:
            form, errors = validate_record(form_class, payload)
            forms = [form]
        if errors:
            return error_response(errors)
        results = save_batch(forms, via="api")
        return JsonResponse({"results": [serialize(result) for result in results]}, status=201)

    return view


def serialize_contact(contact):
    return {"id": contact.pk, "email": contact.email, "stage": contact.stage}


def serialize_event(event):
    if event is None:
        return {"duplicate": True}
    if isinstance(event, DeferredEvent):  # stored, to be recorded once the log takes writes
        return {"contact": event.contact_id, "type": event.type, "deferred": True,
                "duplicate": False}
    return {"id": event.pk, "contact": event.contact_id, "type": event.type,
            "occurred_at": event.occurred_at.isoformat(), "duplicate": False}


contacts = batch_endpoint(ContactRecordForm, serialize_contact)
events = batch_endpoint(EventRecordForm, serialize_event)
stages = batch_endpoint(StageRecordForm, serialize_contact)
