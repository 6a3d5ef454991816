"""The JS beacon endpoint, exercised the way tracker.js calls it."""

import re
import time
import uuid

import pytest
from django.core.signing import loads
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_leadscore.models import Event, Score, ScoreEntry, Segment, Visitor
from wagtail_leadscore.tracking.pageviews import VIEW_TOKEN_SALT

pytestmark = pytest.mark.django_db
BEACON = "/leadscore/beacon/"
CONFIG = re.compile(rb'<script id="leadscore-config" type="application/json">(.*?)</script>')


def tracker_config(response):
    import json

    return json.loads(CONFIG.search(response.content).group(1))


def beacon(client, headers=None, **payload):
    body = {"type": "page_view", "id": uuid.uuid4().hex, "path": "/", **payload}
    return client.post(BEACON, body, content_type="application/json", **(headers or {}))


def test_server_view_is_not_counted_again_by_the_beacon(browser_client, demo_pages):
    page = demo_pages[0]
    config = tracker_config(browser_client.get(page.url))
    response = beacon(browser_client, view=config["view"], path=page.url)
    assert response.status_code == 204
    assert Event.objects.filter(type="page_view").count() == 1


def test_beacon_counts_a_view_of_html_another_visitor_cached(another_browser, browser_client,
                                                             demo_pages):
    page = demo_pages[0]
    cached_html = browser_client.get(page.url)  # rendered for (and counted for) visitor A
    config = tracker_config(cached_html)
    # Visitor B gets A's HTML from a CDN: only the beacon reaches the server.
    response = beacon(another_browser, view=config["view"], path=page.url,
                      query="utm_source=ad")
    assert response.status_code == 204 and "leadscore_vid" in response.cookies
    views = Event.objects.filter(type="page_view", page=page)
    assert views.count() == 2 and views.values("visitor").distinct().count() == 2
    visitor_b_view = views.exclude(visitor=Visitor.objects.order_by("first_seen").first()).get()
    assert visitor_b_view.properties == {"utm_source": "ad"}


def test_old_cached_copy_revisited_by_the_same_visitor_counts(browser_client, demo_pages,
                                                              time_machine):
    page = demo_pages[0]
    config = tracker_config(browser_client.get(page.url))
    time_machine.move_to(time.time() + 3600)
    beacon(browser_client, view=config["view"], path=page.url)
    assert Event.objects.filter(type="page_view").count() == 2


def test_view_token_claims_page(browser_client, demo_pages):
    config = tracker_config(browser_client.get(demo_pages[0].url))
    assert loads(config["view"], salt=VIEW_TOKEN_SALT)["p"] == demo_pages[0].pk


def test_retried_beacon_is_recorded_once(browser_client):
    event_id = uuid.uuid4().hex
    for _ in range(3):
        assert beacon(browser_client, type="custom", name="yellow-button", id=event_id,
                      properties={"color": "yellow"}).status_code == 204
    event = Event.objects.get(type="custom")
    assert (event.name, event.properties) == ("yellow-button", {"color": "yellow"})


def test_engagement_event(browser_client):
    beacon(browser_client, type="engagement", properties={"seconds": 42, "scroll_depth": 80})
    assert Event.objects.get(type="engagement").properties == {"seconds": 42, "scroll_depth": 80}


def test_events_of_one_browser_share_a_visitor(browser_client):
    beacon(browser_client)
    beacon(browser_client, type="custom", name="download-clicked")
    assert Visitor.objects.count() == 1
    assert Event.objects.filter(visitor=Visitor.objects.get()).count() == 2


@pytest.mark.parametrize(
    "payload, bad_fields",
    [
        ({"type": "purchase"}, {"type"}),
        ({"id": "short"}, {"id"}),
        ({"path": "https://evil.example/"}, {"path"}),
        ({"path": "//evil.example/"}, {"path"}),
        ({"type": "custom"}, {"name"}),
        ({"properties": ["not", "an", "object"]}, {"properties"}),
        ({"view": "tampered.token"}, {"view"}),
    ],
)
def test_invalid_beacons_are_400_naming_the_fields(browser_client, payload, bad_fields):
    response = beacon(browser_client, **payload)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == bad_fields
    assert not Event.objects.exists()


def test_beacon_refuses_non_json_cross_site_and_get(browser_client):
    assert browser_client.post(BEACON, {"type": "page_view"}).status_code == 415
    assert browser_client.post(BEACON, "{not json", content_type="application/json"
                               ).status_code == 400
    assert browser_client.post(BEACON, "[1, 2]", content_type="application/json"
                               ).status_code == 400
    cross_site = browser_client.post(
        BEACON, {"type": "page_view", "id": uuid.uuid4().hex, "path": "/"},
        content_type="application/json", HTTP_ORIGIN="https://evil.example",
    )
    assert cross_site.status_code == 403
    same_site = browser_client.post(
        BEACON, {"type": "page_view", "id": uuid.uuid4().hex, "path": "/"},
        content_type="application/json", HTTP_ORIGIN="http://testserver",
    )
    assert same_site.status_code == 204
    assert browser_client.get(BEACON).status_code == 405
    assert Event.objects.count() == 1


def test_beacon_is_rate_limited(browser_client, settings_leadscore):
    settings_leadscore(BEACON_RATE_LIMIT=3)
    statuses = [beacon(browser_client, headers={"REMOTE_ADDR": "203.0.113.7"}).status_code
                for _ in range(5)]
    assert statuses == [204, 204, 204, 429, 429]
    assert beacon(browser_client, headers={"REMOTE_ADDR": "203.0.113.8"}).status_code == 204


def test_bot_beacons_record_nothing(client):
    client.defaults["HTTP_USER_AGENT"] = "Googlebot/2.1 (+http://www.google.com/bot.html)"
    assert beacon(client).status_code == 204
    assert not Event.objects.exists() and not Visitor.objects.exists()


# MariaDB reads the visitor before inserting its event (see db.can_insert_for_visitor).
VISITOR_LOOKUP = 1 if connection.vendor == "mysql" else 0


def app_queries(context):
    """Queries of the request itself, without the test transaction's savepoints."""
    return [q["sql"] for q in context.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_a_beacon_costs_at_most_three_queries(browser_client, demo_pages):
    config = tracker_config(browser_client.get(demo_pages[0].url))  # creates the visitor
    with CaptureQueriesContext(connection) as repeat_of_server_view:
        beacon(browser_client, view=config["view"], path=demo_pages[0].url)
    with CaptureQueriesContext(connection) as new_event:
        beacon(browser_client, type="custom", name="cta", id="retried-event-1")
    with CaptureQueriesContext(connection) as duplicate:
        beacon(browser_client, type="custom", name="cta", id="retried-event-1")
    assert app_queries(repeat_of_server_view) == []
    assert len(app_queries(new_event)) == 1 + VISITOR_LOOKUP, app_queries(new_event)
    assert len(app_queries(duplicate)) <= 3, app_queries(duplicate)
    assert Event.objects.filter(type="custom").count() == 1
    assert Event.objects.filter(type="page_view").count() == 1


def test_a_returning_visitors_page_view_is_one_statement(browser_client, demo_pages):
    Segment.objects.update(is_active=False)  # scoring's statements only (see test_segments)
    index, offer = demo_pages[0], demo_pages[1]  # no points; +10 with a 5th-view bonus
    for page in (offer, index):  # the visitor, the rules and the offer's tagging now known
        browser_client.get(page.url)
    with CaptureQueriesContext(connection) as untagged_view:
        browser_client.get(index.url)
    with CaptureQueriesContext(connection) as tagged_view:
        browser_client.get(offer.url)
    untagged = [q for q in app_queries(untagged_view) if "wagtail_leadscore" in q]
    assert len(untagged) == 1 + VISITOR_LOOKUP, untagged
    tagged = [q for q in app_queries(tagged_view) if "wagtail_leadscore" in q]
    # PostgreSQL inserts the event with its points: the view counter (for the bonus), the
    # ledger lines and the score upserts are CTEs of the same (prepared) statement. SQLite
    # has no data-modifying CTEs: the event, the counter, the ledger lines, the scores.
    assert len(tagged) == (1 if connection.vendor == "postgresql" else 4) + VISITOR_LOOKUP, tagged
    assert Score.objects.get(dimension="global").value == 20
    assert ScoreEntry.objects.filter(dimension="global").count() == 2


def test_last_seen_is_refreshed_at_most_once_a_minute(browser_client, demo_pages, time_machine):
    time_machine.move_to("2026-11-02 10:00:00+00:00", tick=False)
    browser_client.get(demo_pages[0].url)
    visitor = Visitor.objects.get()
    time_machine.move_to("2026-11-02 10:00:30+00:00", tick=False)
    browser_client.get(demo_pages[1].url)
    visitor.refresh_from_db()
    assert visitor.last_seen.isoformat() == "2026-11-02T10:00:00+00:00"
    time_machine.move_to("2026-11-02 10:05:00+00:00", tick=False)
    browser_client.get(demo_pages[1].url)
    visitor.refresh_from_db()
    assert visitor.last_seen.isoformat() == "2026-11-02T10:05:00+00:00"
    assert visitor.first_seen.isoformat() == "2026-11-02T10:00:00+00:00"


def test_hostile_json_is_a_400_never_a_500(browser_client):
    deep = browser_client.post(BEACON, "[" * 5000, content_type="application/json")
    assert deep.status_code == 400
    nested = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    assert beacon(browser_client, type="custom", name="x", properties=nested).status_code == 400
    nul = beacon(browser_client, type="custom", name="x", properties={"k": "a\x00b"})
    assert nul.status_code == 400 and "properties" in nul.json()["errors"]
    assert not Event.objects.exists()


def test_long_urls_are_cut_not_refused(browser_client):
    response = beacon(browser_client, path="/" + "ą" * 1500, referrer="https://x/" + "r" * 3000)
    assert response.status_code == 204
    event = Event.objects.get()
    assert len(event.path.encode()) <= 2000 and len(event.referrer) == 2048


def test_beacon_never_logs_an_identity_token(browser_client):
    beacon(browser_client, query="?ls_id=secret-token&utm_source=mail")
    event = Event.objects.get()
    assert event.query == "utm_source=mail" and event.properties == {"utm_source": "mail"}


def test_rate_limit_behind_a_proxy_uses_the_address_the_proxy_saw(browser_client,
                                                                  settings_leadscore):
    settings_leadscore(BEACON_RATE_LIMIT=2, CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR")
    # The client makes up the left part; our proxy appends the address it saw.
    statuses = [
        beacon(browser_client, headers={"HTTP_X_FORWARDED_FOR": f"10.0.0.{i}, 198.51.100.9"})
        .status_code for i in range(4)
    ]
    assert statuses == [204, 204, 429, 429]


@pytest.mark.parametrize("field", ["query", "name", "properties"])
def test_a_lone_surrogate_escaped_in_json_is_a_400_not_a_500(browser_client, field):
    """Found by the fuzz tests: valid JSON, but no text any database can store."""
    value = r'{"x": "\ud800"}' if field == "properties" else r'"\ud800"'
    body = ('{"type": "custom", "id": "abcdefgh1", "name": "cta", "path": "/",'
            f' "{field}": {value}}}')
    response = browser_client.post("/leadscore/beacon/", body, content_type="application/json")
    assert response.status_code == 400 and "lone surrogate" in response.json()["errors"]["body"][0]
    assert not Event.objects.exists()


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_number_json_cannot_store_is_a_400_naming_the_field(browser_client, number):
    body = ('{"type": "engagement", "id": "abcdefgh1", "path": "/",'
            f' "properties": {{"seconds": {number}}}}}')
    response = browser_client.post(BEACON, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {"properties"}
    assert not Event.objects.exists()


@pytest.mark.parametrize("origin", ["http://[::1", "http://[", "http://]x", "http://[evil]/"])
def test_a_malformed_origin_is_a_400(browser_client, origin):
    response = beacon(browser_client, headers={"HTTP_ORIGIN": origin})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"origin"}
    assert not Event.objects.exists()


def test_a_nul_in_a_utm_value_is_dropped_not_the_view(browser_client, demo_pages):
    """Found by the fuzz tests: PostgreSQL's jsonb refuses \\u0000, and the view was lost."""
    browser_client.get(f"{demo_pages[0].url}?utm_source=news%00letter")
    assert beacon(browser_client, query="utm_campaign=spring%00sale").status_code == 204
    assert list(Event.objects.order_by("pk").values_list("properties", flat=True)) == [
        {"utm_source": "newsletter"}, {"utm_campaign": "springsale"}]
