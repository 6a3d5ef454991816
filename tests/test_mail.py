"""Email through a real SMTP server: what arrives (HTML and text parts, rewritten links, the
one-click unsubscribe headers), the signed click, open and unsubscribe links, their lifetimes
and a key rotation, scanners, the outbox's idempotency, retries (greylisting), the frequency
cap and bounces."""

import datetime
import json
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from wagtail_leadscore.mail.links import CLICK_SALT, sign
from wagtail_leadscore.mail.models import Email, OutboxMessage, Status
from wagtail_leadscore.mail.outbox import enqueue, send_due
from wagtail_leadscore.models import Contact, Event, ScoringRule, Visitor

from .conftest import HUMAN_UA
from .mail_server import html_part, text_part
from .test_scoring import global_score

pytestmark = pytest.mark.django_db

SENT_AT = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
LATER = SENT_AT + datetime.timedelta(minutes=5)  # past the scanners' seconds
SCANNER_UA = "Mozilla/5.0 (compatible; Barracuda Sentinel link protection)"
BODY = [
    {"type": "heading", "value": "Hello {{ first_name | there }}"},
    {"type": "paragraph", "value": (
        '<p>Read about <a href="/offer/passive-house-kasia-120/">Kasia 120</a> or '
        '<a href="https://example.org/guide?chapter=2">the guide</a>. Questions? '
        '<a href="mailto:hello@timberandsun.example">Write to us</a>.</p>')},
    {"type": "button", "value": {"text": "See the prices", "url": "/pricing/"}},
]


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(SENT_AT, tick=False)
    return time_machine


def make_email(slug="spring-news", kind="marketing"):
    return Email.objects.create(name=slug.replace("-", " ").title(), slug=slug, kind=kind,
                                subject="News for {{ company | you }}",
                                preheader="Passive houses in weeks", body=json.dumps(BODY))


@pytest.fixture
def ola(db):
    return Contact.objects.create(email="ola@example.com", first_name="Ola",
                                  company="Ola Builders")


def send_one(contact, email=None, key="test:1"):
    enqueue(contact, email or make_email(), key)
    return send_due()


def click_links(message):
    return [href for href in re.findall(r'href="([^"]+)"', html_part(message))
            if "/leadscore/m/c/" in href]


def path_of(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def pixel_of(message):
    return re.search(r'src="([^"]*/leadscore/m/o/[^"]+)"', html_part(message)).group(1)


def unsubscribe_of(message):
    return re.search(r"<(.+)>", message["List-Unsubscribe"]).group(1)


def reactions(contact):
    """How many of the contact's reactions to email were recorded (clicks, opens, scans)."""
    return Event.objects.filter(contact=contact, type__startswith="email_").exclude(
        type="email_sent").count()


def test_an_email_arrives_with_both_parts_tracked_links_and_unsubscribe_headers(
        mail_server, ola, frozen):
    assert send_one(ola) == {"sent": 1}
    [received] = mail_server.inbox.messages
    assert received["To"] == "ola@example.com"
    assert received["Subject"] == "News for Ola Builders"
    html, text = html_part(received), text_part(received)
    assert "Hello Ola" in html and "Hello Ola" in text and "Passive houses in weeks" in html
    links = click_links(received)
    assert len(links) == 3  # the offer, the guide, the button; mailto: stays as it is
    assert "mailto:hello@timberandsun.example" in html
    assert "example.org" not in html and "chapter=2" not in html  # no destination shows
    assert all(link in text for link in links) and "See the prices" in text
    assert "/leadscore/m/o/" in html  # the open pixel
    unsubscribe = re.search(r"<(.+)>", received["List-Unsubscribe"]).group(1)
    assert "/leadscore/m/u/" in unsubscribe and unsubscribe in html
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = OutboxMessage.objects.get()
    assert row.status == Status.SENT and row.sent_at == SENT_AT
    assert received["Message-ID"] == row.message_id
    assert Event.objects.get(type="email_sent").contact == ola


def test_a_click_redirects_to_its_destination_records_and_identifies(
        mail_server, ola, frozen, browser_client, demo_pages):
    ScoringRule.objects.create(name="Clicked an email", trigger="email_click", points=10)
    send_one(ola)
    offer, guide, pricing = click_links(mail_server.inbox.messages[0])
    browser_client.get(demo_pages[0].url)  # an anonymous visitor so far
    visitor = Visitor.objects.get()
    before = global_score(ola)
    frozen.move_to(LATER, tick=False)

    response = browser_client.get(path_of(guide))
    assert response.status_code == 302
    assert response["Location"] == "https://example.org/guide?chapter=2"  # nothing appended
    assert "no-cache" in response["Cache-Control"]
    assert browser_client.get(path_of(offer))["Location"].endswith(
        "/offer/passive-house-kasia-120/")
    visitor.refresh_from_db()
    assert visitor.contact == ola  # the click identified this browser ...
    assert visitor.verified  # ... and proved it hers: a link sent to her mailbox
    clicks = Event.objects.filter(type="email_click", contact=ola).order_by("pk")
    assert [click.properties["link"] for click in clicks] == [1, 0]
    assert clicks[0].name == "spring-news" and clicks[0].visitor_id == visitor.pk
    assert global_score(ola) == before + 20


def test_tampered_unsigned_and_unknown_links_are_404(mail_server, ola, frozen, client):
    send_one(ola)
    link = path_of(click_links(mail_server.inbox.messages[0])[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    tampered = link.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    row = OutboxMessage.objects.get()
    for path in (tampered, "/leadscore/m/c/1.0/", f"/leadscore/m/c/{sign(CLICK_SALT, 999, 0)}/",
                 f"/leadscore/m/c/{sign(CLICK_SALT, row.pk, 3)}/", "/leadscore/m/u/nothing/",
                 "/leadscore/m/o/nothing/"):
        assert client.get(path).status_code == 404, path
    assert not Event.objects.filter(type__in=["email_click", "email_scan"]).exists()


def test_a_scanner_fetching_every_link_unsubscribes_nobody_and_earns_nothing(
        mail_server, ola, frozen):
    ScoringRule.objects.create(name="Clicked an email", trigger="email_click", points=10)
    send_one(ola)
    received = mail_server.inbox.messages[0]
    unsubscribe = re.search(r"<(.+)>", received["List-Unsubscribe"]).group(1)
    scanner = Client(HTTP_USER_AGENT=HUMAN_UA)  # looks like a browser: caught by its timing
    frozen.move_to(SENT_AT + datetime.timedelta(seconds=3), tick=False)
    for link in click_links(received):
        assert scanner.get(path_of(link)).status_code == 302
    assert scanner.get(path_of(unsubscribe)).status_code == 200  # a page, not an action
    frozen.move_to(LATER, tick=False)
    late_scanner = Client(HTTP_USER_AGENT=SCANNER_UA)
    assert late_scanner.get(path_of(click_links(received)[0])).status_code == 302

    ola.refresh_from_db()
    assert ola.unsubscribed_at is None
    assert Event.objects.filter(type="email_scan").count() == 4
    assert not Event.objects.filter(type__in=["email_click", "unsubscribed"]).exists()
    assert global_score(ola) == 0
    assert not Visitor.objects.filter(contact=ola).exists()  # scans identify nobody


def test_one_click_unsubscribe_stops_marketing_but_not_transactional_email(
        mail_server, ola, frozen):
    send_one(ola)
    unsubscribe = re.search(
        r"<(.+)>", mail_server.inbox.messages[0]["List-Unsubscribe"]).group(1)
    mail_client = Client(enforce_csrf_checks=True)  # the provider's POST carries no token
    page = mail_client.get(path_of(unsubscribe))
    assert b"<form method=\"post\">" in page.content and b"ola@example.com" in page.content
    response = mail_client.post(path_of(unsubscribe), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and b"You are unsubscribed" in response.content
    ola.refresh_from_db()
    assert ola.unsubscribed_at == SENT_AT
    event = Event.objects.get(type="unsubscribed")
    assert event.properties["via"] == "one-click" and event.name == "spring-news"

    enqueue(ola, make_email("autumn-news"), "test:2")
    enqueue(ola, make_email("your-download", kind="transactional"), "test:3")
    assert send_due() == {"suppressed": 1, "sent": 1}
    assert [message["Subject"] for message in mail_server.inbox.messages][1:] == [
        "News for Ola Builders"]
    assert "List-Unsubscribe" not in mail_server.inbox.messages[1]  # transactional
    assert mail_client.post(path_of(unsubscribe)).status_code == 200  # again: no change
    assert Event.objects.filter(type="unsubscribed").count() == 1


def test_an_occurrence_is_sent_once_however_often_it_is_queued_or_run(
        mail_server, ola, frozen):
    email = make_email()
    for _ in range(3):
        enqueue(ola, email, "rule:7:contact:1:event:42")
    assert send_due() == {"sent": 1}
    assert send_due() == {}
    assert len(mail_server.inbox.messages) == 1


def test_a_mail_server_down_delays_the_email_and_loses_nothing(mail_server, ola, frozen):
    mail_server.stop()
    enqueue(ola, make_email(), "test:1")
    assert send_due() == {"retry": 1}
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (Status.QUEUED, 1) and "Connection refused" in \
        row.last_error
    assert row.send_after == SENT_AT + datetime.timedelta(seconds=60)
    mail_server.start()
    assert send_due() == {}  # not yet due
    frozen.move_to(SENT_AT + datetime.timedelta(seconds=61), tick=False)
    assert send_due() == {"sent": 1}
    assert len(mail_server.inbox.messages) == 1


def test_the_frequency_cap_defers_the_second_marketing_email_to_day_8(
        mail_server, ola, frozen):
    send_one(ola, make_email("day-1"), "seq:1")
    frozen.move_to(SENT_AT + datetime.timedelta(days=1), tick=False)
    enqueue(ola, make_email("day-2"), "seq:2")
    assert send_due() == {"deferred": 1}
    assert OutboxMessage.objects.get(key="seq:2").send_after == SENT_AT + datetime.timedelta(
        days=7)
    frozen.move_to(SENT_AT + datetime.timedelta(days=7), tick=False)  # day 8
    assert send_due() == {"sent": 1}
    # A sequence may override the cap (onboarding sends on day 1 and day 2).
    enqueue(ola, make_email("onboarding-2"), "seq:3", frequency_cap_days=0)
    assert send_due() == {"sent": 1}
    assert len(mail_server.inbox.messages) == 3


def test_a_hard_bounce_stops_all_email_to_the_address(mail_server, frozen):
    gone = Contact.objects.create(email="gone@example.com")
    mail_server.inbox.refuse.add("gone@example.com")
    assert send_one(gone) == {"failed": 1}
    gone.refresh_from_db()
    assert gone.bounced_at == SENT_AT
    assert "550" in OutboxMessage.objects.get().last_error
    enqueue(gone, make_email("receipt", kind="transactional"), "test:2")
    assert send_due() == {"suppressed": 1}
    assert mail_server.inbox.messages == []


def test_merge_fields_are_escaped_in_html_and_fall_back_to_their_default(mail_server, frozen):
    sneaky = Contact.objects.create(email="sneaky@example.com",
                                    first_name='<img src=x onerror="alert(1)">')
    plain = Contact.objects.create(email="plain@example.com")
    email = make_email()
    enqueue(sneaky, email, "test:1")
    enqueue(plain, email, "test:2")
    send_due()
    sneaky_mail, plain_mail = (mail_server.inbox.to(address)[0]
                               for address in ("sneaky@example.com", "plain@example.com"))
    assert "<img src=x" not in html_part(sneaky_mail) and "&lt;img" in html_part(sneaky_mail)
    assert "Hello there" in html_part(plain_mail) and plain_mail["Subject"] == "News for you"


def test_the_open_pixel_records_a_weak_signal(mail_server, ola, frozen, client):
    send_one(ola)
    pixel = re.search(r'src="([^"]*/leadscore/m/o/[^"]+)"',
                      html_part(mail_server.inbox.messages[0])).group(1)
    frozen.move_to(LATER, tick=False)  # sooner, it is a machine's (test_bots_and_scanners)
    response = Client(HTTP_USER_AGENT=HUMAN_UA).get(path_of(pixel))
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    Client(HTTP_USER_AGENT="python-requests/2.32").get(path_of(pixel))  # a bot: not counted
    assert Event.objects.filter(type="email_open", contact=ola).count() == 1


def test_email_links_are_rate_limited_per_client(mail_server, ola, frozen, client,
                                                 settings_leadscore):
    settings_leadscore(MAIL_LINK_RATE_LIMIT=2)
    send_one(ola)
    link = path_of(click_links(mail_server.inbox.messages[0])[0])
    statuses = [client.get(link, REMOTE_ADDR="198.51.100.4").status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
    refused = client.get("/leadscore/m/u/nothing/", REMOTE_ADDR="198.51.100.4")
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert client.get(link, REMOTE_ADDR="198.51.100.5").status_code == 302
    assert Event.objects.filter(type__in=["email_click", "email_scan"]).count() == 3


def test_greylisting_is_retried_and_delivered_and_only_a_5xx_bounces(mail_server, frozen):
    """Any 4xx at RCPT is temporary (greylisting, a full mailbox): retried with the backoff,
    and the contact is not bounced. Only a 5xx is a bounce."""
    codes = (450, 451, 452)
    greylisted = [Contact.objects.create(email=f"grey{code}@example.com") for code in codes]
    gone = Contact.objects.create(email="gone@example.com")
    for contact, code in zip(greylisted, codes, strict=True):
        mail_server.inbox.answer("RCPT", f"{code} 4.2.0 Greylisted, try again later",
                                 address=contact.email)
    mail_server.inbox.refuse.add(gone.email)
    email = make_email()
    for number, contact in enumerate([*greylisted, gone]):
        enqueue(contact, email, f"test:{number}")

    assert send_due() == {"retry": 3, "failed": 1}
    waiting = OutboxMessage.objects.filter(contact__in=greylisted)
    assert {(row.status, row.attempts, row.send_after) for row in waiting} == {
        (Status.QUEUED, 1, SENT_AT + datetime.timedelta(seconds=60))}
    assert all("Greylisted" in row.last_error for row in waiting)
    frozen.move_to(SENT_AT + datetime.timedelta(seconds=61), tick=False)
    assert send_due() == {"sent": 3}
    assert sorted(message["To"] for message in mail_server.inbox.messages) == [
        contact.email for contact in greylisted]
    assert not Contact.objects.filter(pk__in=[c.pk for c in greylisted],
                                      bounced_at__isnull=False).exists()
    gone.refresh_from_db()
    assert gone.bounced_at == SENT_AT
    assert OutboxMessage.objects.get(contact=gone).status == Status.FAILED


def test_endless_greylisting_fails_the_message_but_never_bounces_the_contact(
        mail_server, ola, frozen, settings_leadscore):
    settings_leadscore(MAIL_MAX_ATTEMPTS=2)
    mail_server.inbox.answer("RCPT", *["450 4.2.0 Greylisted"] * 2, address=ola.email)
    enqueue(ola, make_email(), "test:1")
    assert send_due() == {"retry": 1}
    frozen.move_to(SENT_AT + datetime.timedelta(seconds=61), tick=False)
    assert send_due() == {"failed": 1}
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (Status.FAILED, 2) and "450" in row.last_error
    ola.refresh_from_db()
    assert ola.bounced_at is None
    enqueue(ola, make_email("next-news"), "test:2")  # the address still gets email
    assert send_due() == {"sent": 1}


@pytest.mark.parametrize("command, reply", [
    ("CONNECT", "421 4.3.2 Too many connections, try later"),
    ("MAIL", "451 4.3.0 Temporary local problem"),
    ("DATA", "452 4.3.1 Insufficient system storage"),
])
def test_a_4xx_when_connecting_at_mail_from_or_at_data_is_temporary(
        mail_server, ola, frozen, command, reply):
    mail_server.inbox.answer(command, reply)
    enqueue(ola, make_email(), "test:1")
    assert send_due() == {"retry": 1}
    assert reply.split()[0] in OutboxMessage.objects.get().last_error
    frozen.move_to(SENT_AT + datetime.timedelta(seconds=61), tick=False)
    assert send_due() == {"sent": 1}
    assert [message["To"] for message in mail_server.inbox.messages] == [ola.email]
    ola.refresh_from_db()
    assert ola.bounced_at is None


def test_email_links_record_for_a_year_then_an_old_click_still_leads_to_its_page(
        mail_server, ola, frozen):
    send_one(ola)
    received = mail_server.inbox.messages[0]
    guide, pixel = path_of(click_links(received)[1]), path_of(pixel_of(received))
    frozen.move_to(SENT_AT + datetime.timedelta(days=365), tick=False)  # MAIL_LINK_MAX_AGE
    reader = Client(HTTP_USER_AGENT=HUMAN_UA)
    assert reader.get(guide).status_code == 302 and reader.get(pixel).status_code == 200
    assert Event.objects.filter(type="email_click", contact=ola).count() == 1
    recorded, linked = reactions(ola), Visitor.objects.filter(contact=ola).count()

    frozen.move_to(SENT_AT + datetime.timedelta(days=366), tick=False)
    stranger = Client(HTTP_USER_AGENT=HUMAN_UA)  # e.g. someone the old email was forwarded to
    response = stranger.get(guide)
    assert response.status_code == 302
    assert response["Location"] == "https://example.org/guide?chapter=2"
    loaded = stranger.get(pixel)
    assert loaded.status_code == 200 and loaded["Content-Type"] == "image/gif"
    assert reactions(ola) == recorded  # nothing recorded
    assert Visitor.objects.filter(contact=ola).count() == linked  # nobody identified


def test_an_unsubscribe_link_works_for_five_years_then_answers_410(
        mail_server, ola, frozen, client, settings_leadscore):
    send_one(ola)
    unsubscribe = path_of(unsubscribe_of(mail_server.inbox.messages[0]))
    frozen.move_to(SENT_AT + datetime.timedelta(days=5 * 365), tick=False)
    assert b"Stop marketing email to ola@example.com" in client.get(unsubscribe).content

    frozen.move_to(SENT_AT + datetime.timedelta(days=5 * 365 + 1), tick=False)
    page = client.get(unsubscribe)
    assert page.status_code == 410 and "This link has expired" in page.content.decode()
    assert "ola@example.com" not in page.content.decode()  # an old link reveals nobody
    assert client.post(unsubscribe, {"List-Unsubscribe": "One-Click"}).status_code == 410
    ola.refresh_from_db()
    assert ola.unsubscribed_at is None

    settings_leadscore(MAIL_UNSUBSCRIBE_MAX_AGE=None)  # never expires
    frozen.move_to(SENT_AT + datetime.timedelta(days=20 * 365), tick=False)
    assert client.post(unsubscribe, {"List-Unsubscribe": "One-Click"}).status_code == 200
    ola.refresh_from_db()
    assert ola.unsubscribed_at is not None


def test_links_survive_a_secret_key_rotation_while_the_old_key_is_a_fallback(
        mail_server, ola, frozen, client, settings):
    settings.SECRET_KEY = "the old key, about to be rotated"
    send_one(ola)
    received = mail_server.inbox.messages[0]
    link, unsubscribe = path_of(click_links(received)[0]), path_of(unsubscribe_of(received))
    frozen.move_to(LATER, tick=False)

    settings.SECRET_KEY = "the new key"
    settings.SECRET_KEY_FALLBACKS = ["the old key, about to be rotated"]
    assert client.get(link).status_code == 302 and client.get(unsubscribe).status_code == 200
    assert send_one(ola, make_email("receipt", kind="transactional"), "test:2") == {"sent": 1}
    new_link = path_of(click_links(mail_server.inbox.messages[1])[0])

    settings.SECRET_KEY_FALLBACKS = []  # the rotation is over: old links are unknown
    assert client.get(link).status_code == 404 and client.get(unsubscribe).status_code == 404
    assert client.get(new_link).status_code == 302
    assert Event.objects.filter(type__in=["email_click", "email_scan"]).count() == 2


def test_link_lifetimes_must_be_durations_or_none(settings_leadscore):
    from django.core import checks

    settings_leadscore(MAIL_LINK_MAX_AGE=365, MAIL_UNSUBSCRIBE_MAX_AGE=None,
                       SALES_LINK_MAX_AGE=-datetime.timedelta(days=1))
    refused = [message.msg for message in checks.run_checks()
               if message.id.startswith("wagtail_leadscore")]
    assert [message.split("'")[1] for message in refused] == [
        "MAIL_LINK_MAX_AGE", "SALES_LINK_MAX_AGE"]
    assert all("positive datetime.timedelta, or None" in message for message in refused)
