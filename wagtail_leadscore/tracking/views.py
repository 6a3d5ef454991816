"""The beacon endpoint: page views of cached pages, custom JS events and engagement."""

from urllib.parse import urlsplit

from django import forms
from django.http import HttpResponse, QueryDict
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..conf import get_setting
from ..db import savepoint_if_in_transaction
from ..http import BadRequest, JSONObjectField, error_response, form_errors, parse_json_body
from ..ratelimit import is_rate_limited
from .health import note_tracking_failure
from .pageviews import read_view_token, repeats_server_view, stored_query, utm_properties

MAX_BEACON_BODY = 16 * 1024


class BeaconForm(forms.Form):
    type = forms.ChoiceField(
        choices=[("page_view", "page_view"), ("custom", "custom"), ("engagement", "engagement")]
    )
    id = forms.RegexField(regex=r"^[A-Za-z0-9_:.-]{8,64}$")
    view = forms.CharField(max_length=500, required=False)
    name = forms.CharField(max_length=200, required=False)
    # Long URLs are cut to their columns (as on the server side), not refused: the view of
    # a cached page would otherwise be lost. The body size limit bounds them anyway.
    path = forms.CharField()
    query = forms.CharField(required=False)
    referrer = forms.CharField(required=False)
    properties = JSONObjectField(required=False)

    def clean_path(self):
        path = self.cleaned_data["path"]
        if not path.startswith("/") or path.startswith("//"):
            raise forms.ValidationError("Must be a path on this site, starting with /.")
        return path

    def clean_query(self):
        # Never log an identity token: tracker.js sends location.search as it is.
        return stored_query(QueryDict(self.cleaned_data["query"].lstrip("?")))

    def clean_view(self):
        token = self.cleaned_data["view"]
        if not token:
            return None
        claims = read_view_token(token)
        if claims is None:
            raise forms.ValidationError("Invalid or tampered view token.")
        return claims

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("type") == "custom" and not cleaned.get("name"):
            self.add_error("name", "A custom event needs a name.")
        return cleaned


def is_cross_site(request):
    """A browser posting from another site says so in Origin; reject it. Raises ValueError
    for an Origin no browser sends (``http://[::1``)."""
    origin = request.headers.get("Origin")
    if not origin:  # same-origin requests of some browsers, and non-browser clients
        return False
    return origin == "null" or urlsplit(origin).netloc != request.get_host()


@csrf_exempt  # Cached pages carry no CSRF token; JSON-only + same-origin checks instead.
@require_POST
def beacon(request):
    try:
        cross_site = is_cross_site(request)
    except ValueError:
        return error_response({"origin": [_("Not a valid Origin header.")]})
    if cross_site:
        return error_response({"origin": [_("Cross-site beacons are refused.")]}, status=403)
    if is_rate_limited(request, "beacon", get_setting("BEACON_RATE_LIMIT")):
        return error_response({"rate": [_("Too many requests.")]}, status=429)
    try:
        payload = parse_json_body(request, max_bytes=MAX_BEACON_BODY)
    except BadRequest as error:
        return error_response(error.errors, status=error.status)
    if not isinstance(payload, dict):
        return error_response({"body": ["Must be a JSON object."]})
    form = BeaconForm(payload)
    if not form.is_valid():
        return error_response(form_errors(form))
    context = request.leadscore
    if context.allowed:
        try:
            record_beacon(context, form.cleaned_data)
        except Exception as error:  # noqa: BLE001 - tracking degrades, says so, goes on
            note_tracking_failure(error)
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response


def record_beacon(context, data):
    claims = data["view"]
    kind = data["type"]
    if kind == "page_view":
        if repeats_server_view(claims, context.cookie_visitor_id):
            return  # the server recorded this view when it rendered the page
        properties = utm_properties(QueryDict(data["query"]))
    else:
        properties = data["properties"]
    with savepoint_if_in_transaction():
        context.record(
            kind,
            page_id=claims.get("p") if claims else None,
            name=data["name"],
            path=data["path"],
            query=data["query"],
            referrer=data["referrer"],
            properties=properties,
            dedupe_key=f"js:{kind}:{data['id']}",
        )
