"""tracker.js in a real browser: Debian's chromium driven by Playwright against live_server.

Never downloads a browser: without /usr/bin/chromium the tests skip, or fail when
LEADSCORE_REQUIRE_BROWSER=1. The live server serves tracker.js through Django's static
files handler, and the beacon endpoint for real.

The tests are transactional (the live server runs in another thread) with
serialized_rollback, which restores the demo content snapshot taken in conftest.py.
"""

import http.cookies
import io
import os
import shutil
import time
import urllib.request
import uuid

import pytest
from django.core.management import call_command
from django.db import OperationalError, connections
from django.http import HttpRequest
from wagtail.models import Page

from wagtail_leadscore.conf import get_setting
from wagtail_leadscore.models import Contact, Event, Visitor
from wagtail_leadscore.tracking.context import COOKIE_SALT

from .conftest import HUMAN_UA

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BEACON = "/leadscore/beacon/"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def browser_context(live_server, monkeypatch):
    """A desktop Chrome (by its user agent: HeadlessChrome is a bot to the tracker)."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("LEADSCORE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing (LEADSCORE_REQUIRE_BROWSER=1)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test
    # are still synchronous, and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            # The switch too, not only the context's user agent: Playwright overrides the
            # latter per page, and a keepalive request still in flight after its page has
            # gone (the engagement beacon on leaving) would say HeadlessChrome: a bot.
            args=[*CHROMIUM_ARGS, f"--user-agent={HUMAN_UA}"],
            headless=True,
        )
        context = browser.new_context(user_agent=HUMAN_UA, viewport={"width": 1024, "height": 400})
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            # Not context.close(): closing pages fires pagehide, and an engagement beacon
            # would then race the database flush of the test's teardown.
            browser.close()
            # While Playwright's loop runs, Django keeps this thread's connections in a
            # context variable, apart from the usual thread-local ones: close the ones the
            # test used, or they outlive the test (and block dropping a PostgreSQL test db).
            connections.close_all()


@pytest.fixture
def demo_page():
    # Idempotent: the demo content is normally there already (the restored snapshot).
    call_command("load_demo_content", verbosity=0, stdout=io.StringIO())
    home = Page.objects.get(depth=2, live=True)
    return home.get_descendants().live().specific().filter(slug="offer").get()


def wait_for(query, timeout=15.0, what="the database to show it"):
    """Poll ``query`` until it returns something truthy. On SQLite the live server's thread
    shares the in-memory database: while it writes, a read may find the table locked."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = query()
        except OperationalError as error:
            if "locked" not in str(error):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {what}.")
        time.sleep(0.05)


def unsign_visitor_id(value):
    """The visitor id in a leadscore_vid cookie value, checked as the middleware does."""
    name = get_setting("COOKIE_NAME")
    request = HttpRequest()
    request.COOKIES[name] = value
    return uuid.UUID(request.get_signed_cookie(name, salt=COOKIE_SALT))


def browser_visitor_id(context):
    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    cookie = cookies.get(get_setting("COOKIE_NAME"))
    assert cookie is not None, f"the browser has no visitor cookie: {sorted(cookies)}"
    assert cookie["httpOnly"]
    return unsign_visitor_id(cookie["value"])


def is_beacon(event_type):
    def matches(response):
        request = response.request
        return (
            request.method == "POST"
            and response.url.endswith(BEACON)
            and (request.post_data_json or {}).get("type") == event_type
        )

    return matches


def fetch_as_another_visitor(url):
    """The page as a CDN would fetch and keep it: rendered for (and counted for) visitor A."""
    request = urllib.request.Request(url, headers={"User-Agent": HUMAN_UA})
    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status == 200
        cookies = http.cookies.SimpleCookie()
        for header in response.headers.get_all("Set-Cookie", []):
            cookies.load(header)
        return response.read(), unsign_visitor_id(cookies[get_setting("COOKIE_NAME")].value)


def test_beacon_records_a_view_of_a_page_whose_html_came_from_a_cache(
    live_server, browser_context, demo_page
):
    url = live_server.url + demo_page.url
    cached_html, visitor_a = fetch_as_another_visitor(url)
    assert Event.objects.filter(type="page_view", visitor_id=visitor_a, page=demo_page).exists()

    page = browser_context.new_page()
    fulfilled = []

    def from_the_cache(route):  # the navigation never reaches the live server
        fulfilled.append(route.request.url)
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=cached_html)

    page.route(url, from_the_cache)
    with page.expect_response(lambda r: r.url.endswith("/tracker.js")) as script:
        with page.expect_response(is_beacon("page_view")) as beacon:
            page.goto(url)
    assert script.value.status == 200  # tracker.js served by the live server's static files
    assert beacon.value.status == 204
    assert fulfilled == [url]

    visitor_b = browser_visitor_id(browser_context)  # set by the beacon's response
    assert visitor_b != visitor_a
    view = wait_for(
        lambda: Event.objects.filter(type="page_view", visitor_id=visitor_b).first(),
        what="visitor B's page view",
    )
    assert view.page_id == demo_page.pk
    assert view.path == demo_page.url
    # Wagtail never saw visitor B: the beacon created it, and its answer set the cookie.
    assert "leadscore_vid=" in (beacon.value.header_value("set-cookie") or "")
    assert Visitor.objects.get(pk=visitor_b).browser == "Chrome"
    # Visitor A's own view stays A's, counted once.
    assert Event.objects.filter(type="page_view", visitor_id=visitor_a).count() == 1


def test_custom_event_and_no_duplicate_view_of_a_page_served_by_wagtail(
    live_server, browser_context, demo_page
):
    page = browser_context.new_page()
    with page.expect_response(is_beacon("page_view")) as beacon:
        response = page.goto(live_server.url + demo_page.url)
    assert response.status == 200
    assert beacon.value.status == 204
    visitor = browser_visitor_id(browser_context)  # set with the HTML by the server-side view

    sent = page.evaluate("() => window.leadscore.track('yellow-button', {color: 'yellow'})")
    assert sent is True  # the promise resolves to response.ok

    custom = wait_for(
        lambda: Event.objects.filter(type="custom", visitor_id=visitor).first(),
        what="the custom event",
    )
    assert (custom.name, custom.properties) == ("yellow-button", {"color": "yellow"})
    assert custom.path == demo_page.url
    # The server recorded the view and the beacon repeated it: one page view.
    views = Event.objects.filter(type="page_view", visitor_id=visitor)
    assert views.count() == 1
    assert views.get().page_id == demo_page.pk
    assert views.get().dedupe_key is None  # the server's own record, not a beacon's
    assert Visitor.objects.count() == 1


def test_the_tracker_runs_under_a_strict_nonce_content_security_policy(
    live_server, browser_context, demo_page, settings
):
    """The page as a site with django-csp serves it (rendered here with the nonce
    middleware in front; the live server's middleware is fixed at its start): the tracker
    script runs by its nonce, its JSON parameters are data, and the beacon is sent."""
    from django.test import Client

    settings.MIDDLEWARE = ["tests.csp.StrictNonceCSPMiddleware", *settings.MIDDLEWARE]
    rendered = Client(HTTP_USER_AGENT=HUMAN_UA).get(demo_page.url)
    policy = rendered["Content-Security-Policy"]
    assert "script-src 'nonce-" in policy and 'defer nonce="' in rendered.content.decode()
    url = live_server.url + demo_page.url
    page = browser_context.new_page()
    page.route(url, lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=rendered.content,
        headers={"Content-Security-Policy": policy}))
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    with page.expect_response(is_beacon("page_view")) as beacon:
        page.goto(url)
    assert beacon.value.status == 204
    page.wait_for_function("() => window.leadscore && window.leadscore.track")
    assert page.evaluate("() => window.leadscore.track('csp-check')") is True
    assert violations == []
    visitor = browser_visitor_id(browser_context)
    wait_for(lambda: Event.objects.filter(type="custom", name="csp-check",
                                          visitor_id=visitor).exists(), what="the event")


@pytest.mark.parametrize("leave", ["navigate", "close"])
def test_engagement_is_reported_when_the_page_is_left(
    live_server, browser_context, demo_page, leave
):
    # A fake clock: "time on page" without waiting for it.
    browser_context.clock.install()
    page = browser_context.new_page()
    with page.expect_response(is_beacon("page_view")):
        page.goto(live_server.url + demo_page.url)
    visitor = browser_visitor_id(browser_context)

    scrollable = page.evaluate(
        "() => document.documentElement.scrollHeight - window.innerHeight"
    )
    assert scrollable > 100, "the demo page must be taller than the viewport"
    # Scroll half way and wait for the scroll event (the tracker's listener runs first).
    page.evaluate(
        """() => new Promise(resolve => {
            window.addEventListener("scroll", resolve, {once: true});
            const doc = document.documentElement;
            window.scrollTo(0, (doc.scrollHeight - window.innerHeight) / 2);
        })"""
    )
    page.clock.fast_forward(7_000)

    if leave == "navigate":
        home = live_server.url + "/"
        with page.expect_response(is_beacon("page_view")):
            page.goto(home)
    else:
        page.close(run_before_unload=True)

    engagement = wait_for(
        lambda: Event.objects.filter(type="engagement", visitor_id=visitor).first(),
        what="the engagement event",
    )
    assert engagement.path == demo_page.url
    assert engagement.page_id == demo_page.pk
    assert 7 <= engagement.properties["seconds"] <= 9
    assert 45 <= engagement.properties["scroll_depth"] <= 55
    assert set(engagement.properties) == {"seconds", "scroll_depth"}
    # Leaving fires both pagehide and visibilitychange: the tracker reports once.
    assert Event.objects.filter(type="engagement", visitor_id=visitor).count() == 1


def test_the_horacy_path_in_a_browser(browser_context, live_server, settings, tmp_path):
    """Three e-books behind progressive forms: the first asks email and name, the second
    company, the third company size and phone; each one's content and download appear
    once its form is sent, and the contact ends up with every answer."""
    from django.core.files.base import ContentFile
    from wagtail.documents import get_document_model

    from .lead_capture import HORACY_QUEUE, gated_article

    settings.WAGTAIL_LEADSCORE = {**settings.WAGTAIL_LEADSCORE, "FORM_MIN_SECONDS": 0}
    settings.MEDIA_ROOT = str(tmp_path)
    pdf = get_document_model().objects.create(
        title="E-book", file=ContentFile(b"%PDF-1.4 e-book", "ebook.pdf"))
    download = ("document", {"document": pdf, "link_text": "Download the e-book"})
    ebooks = [gated_article(slug, "gated", HORACY_QUEUE, per_submission, extra=[download])
              for slug, per_submission in (("first", 1), ("second", 1), ("third", 2))]
    answers = [{"email": "horacy@example.com", "first_name": "Horacy"},
               {"company": "Horacy Builders"},
               {"company_size": "50-249", "phone": "+48 600 100 200"}]
    page = browser_context.new_page()
    for ebook, given in zip(ebooks, answers, strict=True):
        page.goto(live_server.url + ebook.url)
        assert "Chapter one" not in page.content()
        fields = page.locator("form[action*='#leadscore-form'] :is(input, select):visible"
                              ":not([name=leadscore_hp])")  # off-screen, for bots
        asked = [fields.nth(i).get_attribute("name") for i in range(fields.count())]
        assert asked == list(given), asked
        for name, answer in given.items():
            field = page.locator(f"[name={name}]")
            if field.evaluate("element => element.tagName") == "SELECT":
                field.select_option(answer)
            else:
                page.get_by_label(field.evaluate(
                    "element => element.labels[0].textContent")).fill(answer)
        assert page.get_by_role("link", name="Download the e-book").count() == 0
        page.get_by_role("button", name="Unlock").click()
        page.wait_for_url(f"**{ebook.url}?leadscore_sent=*")
        assert "Chapter two, the secret." in page.content()
        with page.expect_download() as downloaded:
            page.get_by_role("link", name="Download the e-book").click()
        assert downloaded.value.suggested_filename == "ebook.pdf"

    contact = Contact.objects.get(email="horacy@example.com")
    assert (contact.first_name, contact.company, contact.company_size, contact.phone) == (
        "Horacy", "Horacy Builders", "50-249", "+48 600 100 200")
    assert contact.profile_submissions.count() == 3
    assert contact.events.filter(type="download").count() == 3
