"""identify(): anonymous history follows the person; shared browsers never merge people."""

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from wagtail_leadscore import identify, make_identity_token, record_event
from wagtail_leadscore.models import Contact, Event, Visitor

from .conftest import HUMAN_UA

pytestmark = pytest.mark.django_db


def request_of(client):
    """A request carrying the browser's cookies and its tracking context, as the
    middleware gives it to a view (e.g. a form view calling identify)."""
    from wagtail_leadscore.tracking.context import TrackingContext

    request = RequestFactory().get("/", HTTP_USER_AGENT=HUMAN_UA)
    request.COOKIES.update({k: v.value for k, v in client.cookies.items()})
    request.leadscore = TrackingContext(request)
    return request


def visit(client, pages):
    for page in pages:
        assert client.get(page.url).status_code == 200


def test_identify_gives_the_anonymous_history_to_the_contact(browser_client, demo_pages):
    visit(browser_client, demo_pages)
    contact = identify(request_of(browser_client), "Horacy@Example.COM", first_name="Horacy")
    assert contact.email == "horacy@example.com" and contact.first_name == "Horacy"
    assert list(contact.events.filter(type="page_view").order_by("occurred_at")
                .values_list("path", flat=True)) == [p.url for p in demo_pages]
    assert contact.visitors.count() == 1
    assert contact.events.filter(type="identify").get().properties["created"] is True
    # Later views belong to the contact straight away.
    visit(browser_client, demo_pages[:1])
    assert contact.events.filter(type="page_view").count() == 4


def test_second_device_merges_into_the_same_contact(another_browser, browser_client,
                                                    demo_pages):
    visit(browser_client, demo_pages[:1])
    laptop = identify(request_of(browser_client), "anna@example.com")
    visit(another_browser, demo_pages[1:])
    phone = identify(request_of(another_browser), "ANNA@example.com",
                     company="Timber Sp. z o.o.")
    assert phone.pk == laptop.pk and Contact.objects.count() == 1
    assert phone.visitors.count() == 2
    assert sorted(phone.events.filter(type="page_view").values_list("path", flat=True)) == \
        sorted(p.url for p in demo_pages)
    assert Contact.objects.get().company == "Timber Sp. z o.o."


def test_shared_browser_keeps_each_persons_history(browser_client, demo_pages):
    visit(browser_client, demo_pages[:2])
    anna = identify(request_of(browser_client), "anna@example.com")
    request = request_of(browser_client)
    bartek = identify(request, "bartek@example.com")
    # The browser now has a new visitor for Bartek; Anna keeps everything she did.
    assert request.leadscore.cookie_needs_update
    assert anna.events.filter(type="page_view").count() == 2
    assert not bartek.events.filter(type="page_view").exists()
    assert Visitor.objects.filter(contact=bartek).count() == 1
    assert Visitor.objects.filter(contact=anna).count() == 1


def test_facts_progressive_and_never_erased(browser_client):
    identify(None, "cto@example.com", company="Acme", budget="50000-100000")
    contact = identify(None, "cto@example.com", company="", phone="+48 600 000 000",
                       timeframe="2 months")
    assert contact.company == "Acme" and contact.phone == "+48 600 000 000"
    assert contact.facts == {"budget": "50000-100000", "timeframe": "2 months"}


def test_identify_rejects_an_invalid_email():
    with pytest.raises(ValueError):
        identify(None, "not-an-email")
    assert not Contact.objects.exists()


def test_identity_token_identifies_a_new_device(browser_client, demo_pages):
    contact = identify(None, "horacy@example.com")
    token = make_identity_token(contact)
    response = browser_client.get(f"{demo_pages[0].url}?ls_id={token}&utm_medium=email")
    # Identified, then sent to the same URL without the token (a credential).
    assert response.status_code == 302 and "leadscore_vid" in response.cookies
    assert response["Location"] == f"{demo_pages[0].url}?utm_medium=email"
    assert "no-cache" in response["Cache-Control"]
    browser_client.get(response["Location"])
    view = Event.objects.get(type="page_view")
    assert view.contact == contact and view.query == "utm_medium=email"
    assert [e.properties["via"] for e in contact.events.filter(type="identify")
            .order_by("occurred_at")] == ["identify", "token"]


def test_tampered_or_expired_identity_token_is_ignored(browser_client, demo_pages,
                                                       time_machine):
    contact = identify(None, "horacy@example.com")
    token = make_identity_token(contact)
    tampered = browser_client.get(f"{demo_pages[0].url}?ls_id={token[:-2]}xx")
    assert tampered.status_code == 302 and tampered["Location"] == demo_pages[0].url
    time_machine.move_to(timezone.now() + timedelta(days=31))
    browser_client.get(f"{demo_pages[0].url}?ls_id={token}", follow=True)
    assert not Visitor.objects.filter(contact=contact).exists()
    assert Event.objects.filter(type="page_view", contact__isnull=True).count() == 1


def test_record_event_public_api():
    contact = identify(None, "ewa@example.com")
    event = record_event("offline", contact=contact, name="Budma 2027",
                         properties={"booth": "B12"})
    assert event.contact == contact and event.visitor is None
    assert record_event("offline", contact=contact, dedupe_key="k1") is not None
    assert record_event("offline", contact=contact, dedupe_key="k1") is None
    with pytest.raises(ValueError):
        record_event("no_such_type", contact=contact)


def test_event_types_registered_by_a_hook(client):
    from wagtail import hooks

    from wagtail_leadscore.events import EventType, event_types

    webinar = EventType("webinar_attended", "Webinar attended")
    with hooks.register_temporarily("register_leadscore_event_types", lambda: [webinar]):
        assert event_types.get("webinar_attended") == webinar
        contact = identify(None, "ewa@example.com")
        assert record_event("webinar_attended", contact=contact).type == "webinar_attended"
    with pytest.raises(ValueError):
        record_event("webinar_attended", contact=contact)


def test_facts_of_any_form_value_type_are_stored():
    from datetime import date
    from decimal import Decimal

    contact = identify(None, "cfo@example.com", budget=Decimal("50000.50"),
                       start=date(2027, 3, 1))
    contact.refresh_from_db()
    assert contact.facts == {"budget": "50000.50", "start": "2027-03-01"}
