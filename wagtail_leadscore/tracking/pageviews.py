"""Page views, recorded when Wagtail serves a page or when the beacon reports one."""

import secrets
import time

from django.core import signing

from ..conf import get_setting
from ..db import savepoint_if_in_transaction
from ..events import record_event
from .health import note_tracking_failure

UTM_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
VIEW_TOKEN_SALT = "wagtail_leadscore.view"


def utm_properties(query_dict):
    return {key: query_dict[key][:200] for key in UTM_PARAMETERS if query_dict.get(key)}


def stored_query(query_dict):
    """The query string to log, without the identity token (a credential)."""
    query = query_dict.copy()
    query.pop(get_setting("IDENTITY_TOKEN_PARAM"), None)
    return query.urlencode()


def view_dedupe_key(visitor_id, nonce):
    """The key a page view is logged under by the server and by the beacon alike."""
    return f"view:{visitor_id}:{nonce}"


def record_page_view(request, page):
    """The server-side half: called by the ``before_serve_page`` hook; never raises.

    Only GET is a view: a form POST is recorded as what it is (form_submit), and HEAD
    requests come from link checkers.
    """
    context = getattr(request, "leadscore", None)
    if request.method != "GET" or context is None or not get_setting("SERVER_SIDE_TRACKING"):
        return
    if not context.allowed:
        return
    try:
        with savepoint_if_in_transaction():
            visitor = context.ensure_visitor()
            nonce = secrets.token_urlsafe(12)
            record_event(
                "page_view",
                visitor=visitor,
                page=page,
                path=request.path,
                query=stored_query(request.GET),
                referrer=request.META.get("HTTP_REFERER", ""),
                properties=utm_properties(request.GET),
                dedupe_key=view_dedupe_key(visitor.pk, nonce),
            )
            context.touch(visitor)
        context.view_nonce = nonce
    except Exception as error:  # noqa: BLE001 - the page is always served
        note_tracking_failure(error)


def make_view_token(page_id, nonce):
    """What the tracker tag embeds: the page, and the server-side view it may repeat."""
    return signing.dumps({"p": page_id, "n": nonce, "t": int(time.time())}, salt=VIEW_TOKEN_SALT)


def read_view_token(token):
    """The claims of a view token, or None if it was tampered with."""
    try:
        claims = signing.loads(token, salt=VIEW_TOKEN_SALT)
    except signing.BadSignature:
        return None
    return claims if isinstance(claims, dict) else None


def beacon_view_key(visitor_id, claims, beacon_id):
    """The server already logged this view if the HTML was rendered for this visitor just
    now; a copy from a cache (another visitor's, or an old one) is a new view."""
    nonce = claims.get("n") if claims else None
    fresh = claims and time.time() - claims.get("t", 0) <= get_setting("BEACON_DEDUPE_SECONDS")
    if nonce and fresh:
        return view_dedupe_key(visitor_id, nonce)
    return f"beacon:{visitor_id}:{beacon_id}"
