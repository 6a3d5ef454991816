"""Random and malicious input to every public endpoint: never a server error, nothing
stored that should not be. Each endpoint runs a small sample in the default suite and
10,000 requests with ``pytest -m slow`` (marked ``slow``)."""

import json
import re
from urllib.parse import quote, urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wagtail_leadscore.mail.links import CLICK_SALT, OPEN_SALT, UNSUBSCRIBE_SALT, sign
from wagtail_leadscore.models import ApiKey, Contact, Event, OutboxMessage

from .conftest import HUMAN_UA
from .lead_capture import HORACY_QUEUE, ebook
from .test_mail import make_email, send_one

pytestmark = pytest.mark.django_db

SIZES = [pytest.param(50, id="sample"), pytest.param(10_000, id="10k", marks=pytest.mark.slow)]

MALICIOUS = [
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' OR '1'='1' --",
    "'; DROP TABLE wagtail_leadscore_event; --", "\x00", "a\x00b", "../../etc/passwd",
    "javascript:alert(1)", "//evil.example/", "https://evil.example/", "=HYPERLINK(\"x\")",
    "\r\nSet-Cookie: pwned=1", "%00%0d%0a", "\ud800", "𝕏" * 300, "A" * 20_000, "{{ 7*7 }}",
    "${jndi:ldap://evil.example/a}", "²", "١٢", "-1", "9" * 40, "1e309", "NaN", "",
]
texts = st.one_of(st.text(max_size=300), st.sampled_from(MALICIOUS))
# What an HTTP client can send as text at all (no lone surrogates); raw bytes cover the rest.
sendable_texts = texts.filter(lambda text: not re.search("[\ud800-\udfff]", text))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(texts, children, max_size=4),
    max_leaves=12)


def fuzz(examples):
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def no_rate_limits(settings_leadscore):
    cache.clear()
    settings_leadscore(BEACON_RATE_LIMIT=10**9, FORM_RATE_LIMIT=10**9, API_RATE_LIMIT=10**9,
                       MAIL_LINK_RATE_LIMIT=10**9)


@pytest.fixture
def visitor_browser():
    return Client(HTTP_USER_AGENT=HUMAN_UA)


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
beacon_payloads = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional={field: json_values for field in BEACON_FIELDS}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["page_view", "custom", "engagement"]),
         "id": st.from_regex(r"\A[A-Za-z0-9_:.-]{8,64}\Z"), "path": st.just("/offer/")},
        optional={"name": texts, "query": texts, "referrer": texts, "view": texts,
                  "properties": st.dictionaries(texts, json_values, max_size=5)}),
)
bodies = st.one_of(beacon_payloads.map(lambda value: json.dumps(value).encode()),
                   st.binary(max_size=2000))


@pytest.mark.parametrize("examples", SIZES)
def test_the_beacon_never_fails(examples, no_rate_limits, visitor_browser):
    visitor_browser.get("/offer/")  # a visitor with a cookie, as tracker.js sends
    before = list(Contact.objects.values_list("pk", flat=True))

    @fuzz(examples)
    @given(body=bodies, content_type=st.sampled_from(
        ["application/json", "text/plain", "application/x-www-form-urlencoded"]),
        origin=st.sampled_from([None, "http://testserver", "https://evil.example"]))
    def send(body, content_type, origin):
        extra = {"HTTP_ORIGIN": origin} if origin else {}
        response = visitor_browser.post("/leadscore/beacon/", body, content_type=content_type,
                                        **extra)
        assert response.status_code < 500, response.content[:300]

    send()
    assert_nothing_corrupted(before)


FORM_FIELDS = ("email", "first_name", "company", "company_size", "phone", "leadscore_hp",
               "leadscore_token", "leadscore_form", "next")


@pytest.mark.parametrize("examples", SIZES)
def test_progressive_forms_never_fail(examples, no_rate_limits, visitor_browser):
    page = ebook("fuzz", 2, HORACY_QUEUE)
    form = visitor_browser.get(page.url).content.decode()
    token = re.search(r'name="leadscore_token" value="([^"]*)"', form).group(1)
    block = re.search(r'name="leadscore_form" value="([^"]*)"', form).group(1)
    before = list(Contact.objects.values_list("pk", flat=True))

    @fuzz(examples)
    @given(fields=st.fixed_dictionaries({}, optional={
        field: st.one_of(sendable_texts, st.lists(sendable_texts, max_size=3))
        for field in FORM_FIELDS}), real_token=st.booleans(), raw=st.none() | st.binary())
    def send(fields, real_token, raw):
        if raw is not None:  # any bytes, invalid UTF-8 and percent escapes included
            response = visitor_browser.post(
                page.url, raw, content_type="application/x-www-form-urlencoded")
            assert response.status_code < 500, response.content[:300]
            return
        data = {**({"leadscore_token": token, "leadscore_form": block} if real_token else {}),
                **fields}
        response = visitor_browser.post(page.url, data)
        assert response.status_code < 500, response.content[:300]
        if response.status_code in (301, 302, 303):
            assert not urlsplit(response["Location"]).netloc, response["Location"]

    send()
    assert_nothing_corrupted(before)


@pytest.mark.parametrize("examples", SIZES)
@pytest.mark.parametrize("endpoint", ["contacts", "events", "stages"])
def test_the_api_never_fails(examples, endpoint, no_rate_limits, client):
    raw_key = (key := ApiKey(name="Fuzz")).set_new_key()
    key.save()
    records = st.fixed_dictionaries({}, optional={field: json_values for field in (
        "email", "first_name", "company", "phone", "facts", "type", "name", "occurred_at",
        "path", "properties", "id", "stage", "reason")})
    before = list(Contact.objects.values_list("pk", flat=True))

    @fuzz(examples)
    @given(payload=st.one_of(json_values, records, st.lists(records, max_size=5)),
           authorization=st.sampled_from([f"Bearer {raw_key}", "Bearer wrong", "", "Basic x"]))
    def send(payload, authorization):
        response = client.post(f"/leadscore/api/{endpoint}/", json.dumps(payload),
                               content_type="application/json",
                               HTTP_AUTHORIZATION=authorization)
        assert response.status_code < 500, response.content[:300]

    send()
    assert_nothing_corrupted(before)


@pytest.mark.parametrize("examples", SIZES)
def test_email_links_never_fail_nor_lead_off_the_stored_links(
        examples, no_rate_limits, mail_server, client):
    ola = Contact.objects.create(email="ola@example.com", first_name="Ola")
    send_one(ola, make_email())
    message = OutboxMessage.objects.get()
    destinations = {link if isinstance(link, str) else link.get("url")
                    for link in message.links}
    token_parts = st.lists(st.one_of(st.integers(-5, 10**12), sendable_texts,
                                     st.just(message.pk)),
                           min_size=1, max_size=3)

    @fuzz(examples)
    @given(kind=st.sampled_from(["c", "o", "u"]), method=st.sampled_from(["get", "post"]),
           token=st.one_of(sendable_texts.filter(lambda text: "/" not in text and text),
                           token_parts))
    def send(kind, method, token):
        if isinstance(token, list):
            salt = {"c": CLICK_SALT, "o": OPEN_SALT, "u": UNSUBSCRIBE_SALT}[kind]
            token = sign(salt, *token)
        response = getattr(client, method)(f"/leadscore/m/{kind}/{quote(token, safe='')}/")
        assert response.status_code < 500, response.content[:300]
        if response.status_code in (301, 302, 303, 307):  # off the site: only where it led
            location = response["Location"]
            assert not urlsplit(location).netloc or location in destinations, location

    send()


@pytest.mark.parametrize("examples", SIZES)
def test_not_you_never_redirects_off_site(examples, no_rate_limits, visitor_browser):
    @fuzz(examples)
    @given(target=sendable_texts)
    def send(target):
        response = visitor_browser.post("/leadscore/not-you/", {"next": target})
        assert response.status_code < 500
        if response.status_code in (301, 302, 303):
            location = urlsplit(response["Location"])
            assert not location.netloc and not location.scheme, response["Location"]

    send()
