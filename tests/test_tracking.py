"""Server-side tracking through real page requests."""

from contextlib import contextmanager
from wsgiref.util import setup_testing_defaults

import pytest
from django.db import ProgrammingError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page

from wagtail_leadscore.models import Event, Score, Visitor
from wagtail_leadscore.tracking.health import tracking_failure_count

from .conftest import HUMAN_UA

pytestmark = pytest.mark.django_db
COOKIE = "leadscore_vid"


def page_views():
    return Event.objects.filter(type="page_view")


def test_first_view_creates_visitor_cookie_and_event(browser_client, demo_pages):
    page = demo_pages[0]
    response = browser_client.get(
        page.url + "?utm_source=newsletter&utm_campaign=autumn&x=1",
        HTTP_REFERER="https://search.example/?q=passive+house",
    )
    assert response.status_code == 200
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert "private" in response["Cache-Control"]  # no shared cache keeps a Set-Cookie
    visitor = Visitor.objects.get()
    assert (visitor.device, visitor.browser, visitor.os) == ("desktop", "Chrome", "Linux")
    event = page_views().get()
    assert event.visitor == visitor and event.contact is None
    assert event.page_id == page.pk and event.path == page.url
    assert "x=1" in event.query and event.referrer.startswith("https://search.example/")
    assert event.properties == {"utm_source": "newsletter", "utm_campaign": "autumn"}


def test_returning_visitor_keeps_its_id_and_no_new_cookie(browser_client, demo_pages):
    browser_client.get(demo_pages[0].url)
    response = browser_client.get(demo_pages[1].url)
    assert COOKIE not in response.cookies and not response.has_header("Cache-Control")
    assert Visitor.objects.count() == 1
    assert page_views().filter(visitor=Visitor.objects.get()).count() == 2


def test_tampered_cookie_gives_a_new_visitor(browser_client, demo_pages):
    browser_client.get(demo_pages[0].url)
    first = Visitor.objects.get()
    value = browser_client.cookies[COOKIE].value
    browser_client.cookies[COOKIE] = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    response = browser_client.get(demo_pages[1].url)
    assert COOKIE in response.cookies
    second = Visitor.objects.exclude(pk=first.pk).get()
    assert page_views().get(path=demo_pages[1].url).visitor == second
    forged = f"{first.pk}:forged-signature"  # another's id without our signature
    browser_client.cookies[COOKIE] = forged
    browser_client.get(demo_pages[2].url)
    assert page_views().get(path=demo_pages[2].url).visitor not in (first,)


def test_extra_bot_patterns_from_settings(browser_client, demo_pages, settings_leadscore):
    settings_leadscore(BOT_USER_AGENT_PATTERNS=[r"Chrome/126\.0\.0\.0"])
    browser_client.get(demo_pages[0].url)
    assert not Event.objects.exists()


def test_staff_not_tracked_unless_configured(browser_client, demo_pages, admin_user,
                                             settings_leadscore):
    browser_client.force_login(admin_user)
    browser_client.get(demo_pages[0].url)
    assert not Event.objects.exists()
    settings_leadscore(TRACK_STAFF=True)
    browser_client.get(demo_pages[0].url)
    assert page_views().count() == 1


def test_preview_is_not_tracked_and_has_no_tracker(rf, demo_pages, admin_user,
                                                   settings_leadscore):
    settings_leadscore(TRACK_STAFF=True)
    page = demo_pages[0]
    request = rf.get("/", HTTP_USER_AGENT=HUMAN_UA)
    request.user = admin_user
    response = page.make_preview_request(request)
    assert response.status_code == 200
    assert b"leadscore-config" not in response.content
    assert not Event.objects.exists()


def test_tracker_config_is_rendered_for_visitors(browser_client, demo_pages):
    response = browser_client.get(demo_pages[0].url)
    assert b'<script id="leadscore-config" type="application/json">' in response.content
    assert b"wagtail_leadscore/js/tracker.js" in response.content


def test_ignored_path_prefixes(browser_client, demo_pages, settings_leadscore):
    settings_leadscore(IGNORE_PATH_PREFIXES=[demo_pages[1].url])
    browser_client.get(demo_pages[1].url)
    browser_client.get(demo_pages[2].url)
    assert list(page_views().values_list("path", flat=True)) == [demo_pages[2].url]


def test_server_side_tracking_can_be_switched_off(browser_client, demo_pages,
                                                  settings_leadscore):
    settings_leadscore(SERVER_SIDE_TRACKING=False)
    response = browser_client.get(demo_pages[0].url)
    assert response.status_code == 200 and not Event.objects.exists()


@contextmanager
def event_table_gone():
    """The event table missing for a while: every write of an event fails. On MySQL and
    MariaDB, where DDL commits the test's transaction, each statement naming it fails."""
    table = Event._meta.db_table
    if connection.vendor == "mysql":
        def gone(execute, sql, params, many, context):
            if table in sql:
                raise ProgrammingError(f"Table {table!r} doesn't exist")
            return execute(sql, params, many, context)

        with connection.execute_wrapper(gone):
            yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_gone")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_gone RENAME TO {table}")


def test_database_error_while_tracking_never_breaks_the_page(browser_client, demo_pages,
                                                             caplog):
    before = tracking_failure_count()
    with event_table_gone():
        response = browser_client.get(demo_pages[0].url)
        assert response.status_code == 200
        assert demo_pages[0].title.encode() in response.content
    assert tracking_failure_count() == before + 1
    assert "Tracking failed" in caplog.text
    # The visitor row written before the failure was rolled back with the savepoint,
    # and tracking works again once the database does.
    browser_client.get(demo_pages[1].url)
    assert page_views().count() == 1


def test_database_error_after_the_response_never_reaches_the_server(browser_client,
                                                                   demo_pages, caplog):
    browser_client.get(demo_pages[0].url)  # a returning visitor: the view is written late
    before = tracking_failure_count()
    with event_table_gone():
        response = browser_client.get(demo_pages[1].url)
    assert response.status_code == 200 and demo_pages[1].title.encode() in response.content
    assert tracking_failure_count() == before + 1 and "Tracking failed" in caplog.text
    browser_client.get(demo_pages[2].url)
    assert list(page_views().order_by("pk").values_list("path", flat=True)) == \
        [demo_pages[0].url, demo_pages[2].url]


@pytest.fixture
def wsgi_get():
    """GET through Django's WSGI handler as a WSGI server does: the body first, then
    ``close()``. Returns (body, close)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    def keep_connection(connect):
        # As django.test.Client does: the test's transaction keeps its connection.
        for signal in (request_started, request_finished):
            (signal.connect if connect else signal.disconnect)(close_old_connections)

    def get(path, cookie):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_COOKIE": cookie,
                   "HTTP_USER_AGENT": HUMAN_UA}
        setup_testing_defaults(environ)
        statuses = []
        keep_connection(False)
        body = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
        content = b"".join(body)
        assert statuses == ["200 OK"]

        def close():
            body.close()
            keep_connection(True)

        return content, close

    yield get
    keep_connection(True)  # also after a failed assertion (connecting twice is a no-op)


@pytest.mark.parametrize("after_response", [True, False])
def test_a_returning_visitors_view_is_written_after_the_response(
        browser_client, demo_pages, settings_leadscore, wsgi_get, after_response):
    """The visitor does not wait for the write: the server has sent the page before it
    closes the response, which writes the view."""
    settings_leadscore(RECORD_VIEWS_AFTER_RESPONSE=after_response)
    browser_client.get(demo_pages[0].url)
    cookie = f"{COOKIE}={browser_client.cookies[COOKIE].value}"
    content, close = wsgi_get(demo_pages[1].url, cookie)
    assert demo_pages[1].title.encode() in content and b"leadscore-config" in content
    written_before_close = page_views().filter(path=demo_pages[1].url).exists()
    close()
    assert written_before_close is not after_response
    assert page_views().filter(path=demo_pages[1].url, visitor=Visitor.objects.get()).exists()


def test_a_visitor_gone_since_its_cookie_was_set_starts_afresh_under_its_id(
        browser_client, demo_pages):
    """Retention pruned the visitor (or an erasure removed it) while the browser kept its
    cookie: a new anonymous visitor under the cookie's id; nothing of the old one."""
    browser_client.get(demo_pages[0].url)
    visitor_id = Visitor.objects.get().pk
    Visitor.objects.all().delete()
    response = browser_client.get(demo_pages[1].url)
    assert response.status_code == 200
    visitor = Visitor.objects.get()
    assert visitor.pk == visitor_id and visitor.contact is None
    assert list(page_views().values_list("path", flat=True)) == [demo_pages[1].url]
    browser_client.get(demo_pages[2].url)
    assert page_views().filter(visitor=visitor).count() == 2


def test_unpublished_page_is_404_and_untracked(browser_client, demo_pages):
    page = Page.objects.get(pk=demo_pages[0].pk)
    url = page.url
    page.unpublish()
    assert browser_client.get(url).status_code == 404
    assert not Event.objects.exists()


def test_only_get_is_a_page_view(browser_client, demo_pages):
    assert browser_client.head(demo_pages[0].url).status_code == 200
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tracking_in_autocommit_keeps_the_sessions_commit_mode(browser_client, demo_pages):
    """Outside a transaction (production), a page view on PostgreSQL commits without waiting
    for the disk flush, for that one statement: the connection's own mode is unchanged."""
    for page in (demo_pages[1], demo_pages[0]):  # the visitor; its statements prepared
        browser_client.get(page.url)
    with CaptureQueriesContext(connection) as untagged_view:
        browser_client.get(demo_pages[0].url)
    with CaptureQueriesContext(connection) as tagged_view:
        browser_client.get(demo_pages[1].url)  # scored: one statement on PostgreSQL only
    assert len(writes(untagged_view)) == 1
    assert len(writes(tagged_view)) == (1 if connection.vendor == "postgresql" else 4)
    assert list(page_views().order_by("occurred_at").values_list("path", flat=True)) == \
        [demo_pages[1].url, demo_pages[0].url, demo_pages[0].url, demo_pages[1].url]
    assert page_views().values("visitor").distinct().count() == 1
    if connection.vendor == "postgresql":
        # The prepared statements the two views executed (the event alone, and the event
        # with its points) turn synchronous commit off for themselves only.
        names = [sql.split()[1].split("(")[0] for sql in
                 writes(untagged_view) + writes(tagged_view)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = ANY(%s)",
                           [names])
            prepared = [statement for (statement,) in cursor.fetchall()]
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
        assert len(prepared) == 2
        assert all("set_config('synchronous_commit', 'off', true)" in statement
                   for statement in prepared)


def writes(captured):
    """The statements of a request that write the plugin's tables."""
    return [q["sql"] for q in captured.captured_queries
            if q["sql"].startswith(("INSERT", "UPDATE", "WITH", "EXECUTE"))
            and "wagtail_leadscore" in q["sql"]]


def test_password_protected_page_is_not_a_view_until_unlocked(browser_client, demo_pages):
    from wagtail.models import PageViewRestriction

    page = demo_pages[1]
    PageViewRestriction.objects.create(page=page, restriction_type="password", password="x")
    response = browser_client.get(page.url)
    assert response.status_code == 200 and b"password" in response.content.lower()
    assert not Event.objects.exists()


def test_bots_get_the_tracker_for_shared_caches(client, demo_pages):
    response = client.get(demo_pages[0].url, HTTP_USER_AGENT="Googlebot/2.1")
    assert b"leadscore-config" in response.content and not Event.objects.exists()


def test_wagtail_editors_without_is_staff_are_not_tracked(browser_client, demo_pages,
                                                          django_user_model):
    from django.contrib.auth.models import Group

    editor = django_user_model.objects.create_user("editor", password="x", is_staff=False)
    editor.groups.add(Group.objects.get(name="Editors"))
    browser_client.force_login(editor)
    response = browser_client.get(demo_pages[0].url)
    assert b"leadscore-config" not in response.content and not Event.objects.exists()


def test_broken_consent_check_serves_the_page_untracked(browser_client, demo_pages,
                                                       settings_leadscore):
    settings_leadscore(TRACKING_MODE="consent", CONSENT_CHECK=f"{__name__}.broken_check")
    before = tracking_failure_count()
    assert browser_client.get(demo_pages[0].url).status_code == 200
    assert not Event.objects.exists() and tracking_failure_count() > before


def broken_check(request):
    raise RuntimeError("the cookie banner's callable is broken")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_prepared_statements_lost_by_the_session_are_prepared_again(browser_client,
                                                                    demo_pages):
    """On PostgreSQL the tracking statements are prepared once per connection; should the
    session lose them (``DEALLOCATE ALL``, ``DISCARD ALL``), the next view prepares them
    again instead of failing."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements: PostgreSQL only")
    offer = demo_pages[1]
    browser_client.get(offer.url)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    browser_client.get(offer.url)
    browser_client.get(demo_pages[0].url)
    assert page_views().count() == 3
    assert Score.objects.get(dimension="global").value == 20


def test_the_tracker_script_carries_the_requests_csp_nonce(browser_client, demo_pages,
                                                          settings):
    import re

    plain = browser_client.get(demo_pages[0].url).content.decode()
    assert re.search(r'<script src="[^"]+tracker\.js" defer></script>', plain)
    settings.MIDDLEWARE = ["tests.csp.StrictNonceCSPMiddleware", *settings.MIDDLEWARE]
    response = Client(HTTP_USER_AGENT=HUMAN_UA).get(demo_pages[1].url)  # the new middleware
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'tracker.js" defer nonce="{nonce}"></script>' in response.content.decode()
