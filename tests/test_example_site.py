"""The example site: demo content, every page served, and the identify story over HTTP."""

import pytest
from django.core.management import call_command
from wagtail.models import Page

from timberframe.models import EbookPage
from wagtail_leadscore.models import Contact, Event, Segment

pytestmark = pytest.mark.django_db


def test_demo_content_is_idempotent():
    before = Page.objects.count(), Segment.objects.count()
    call_command("load_demo_content", verbosity=0)
    assert (Page.objects.count(), Segment.objects.count()) == before
    assert before[0] > 20 and before[1] == 5


def test_every_demo_page_is_served(browser_client):
    for page in Page.objects.live().specific().exclude(depth=1):
        assert browser_client.get(page.url).status_code == 200, page.url


def download_ebook(client, **answers):
    ebook = EbookPage.objects.live().first()
    client.get(ebook.url)
    response = client.post(ebook.url, answers)
    assert response.status_code == 200
    return ebook, response


def test_three_page_views_then_the_ebook_form_make_one_contact(browser_client, demo_pages):
    for page in demo_pages:
        browser_client.get(page.url)
    ebook, response = download_ebook(browser_client, email="Horacy@example.com",
                                     first_name="Horacy")
    contact = Contact.objects.get(email="horacy@example.com")
    assert contact.first_name == "Horacy"
    viewed = list(contact.events.filter(type="page_view").order_by("occurred_at")
                  .values_list("path", flat=True))
    assert viewed[:3] == [page.url for page in demo_pages]
    assert viewed[3:] == [ebook.url]  # the landing page itself, viewed before the form
    submit = contact.events.get(type="form_submit")
    assert submit.page_id == ebook.pk
    assert submit.properties == {"form": ebook.slug, "answers": {"first_name": "Horacy"}}


def test_two_people_on_one_browser_keep_their_own_history(browser_client, demo_pages):
    browser_client.get(demo_pages[0].url)
    ebook, _ = download_ebook(browser_client, email="anna@example.com", first_name="Anna")
    first_cookie = browser_client.cookies["leadscore_vid"].value
    # Anna is known here: the form asks her nothing she answered, and offers "Not you?".
    form = browser_client.get(ebook.url).content.decode()
    assert "Not anna@example.com?" in form and 'name="email"' not in form
    browser_client.post("/leadscore/not-you/", {"next": ebook.url})
    assert browser_client.cookies["leadscore_vid"].value != first_cookie  # Bartek's visitor
    download_ebook(browser_client, email="bartek@example.com", first_name="B")
    anna, bartek = Contact.objects.get(first_name="Anna"), Contact.objects.get(first_name="B")
    assert anna.events.filter(type="page_view", path=demo_pages[0].url).exists()
    assert not bartek.events.filter(type="page_view", path=demo_pages[0].url).exists()
    browser_client.get(demo_pages[1].url)
    assert Event.objects.get(type="page_view", path=demo_pages[1].url).contact == bartek


def test_invalid_form_shows_errors_and_identifies_nobody(browser_client):
    ebook = EbookPage.objects.live().first()
    response = browser_client.post(ebook.url, {"email": "not an email"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not Contact.objects.exists()


def test_form_is_csrf_protected(demo_pages):
    from django.test import Client

    from .conftest import HUMAN_UA

    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=HUMAN_UA)
    ebook = EbookPage.objects.live().first()
    assert client.post(ebook.url, {"email": "x@example.com"}).status_code == 403
    assert not Contact.objects.exists()


def test_the_demo_segments_follow_what_people_read(browser_client, another_browser):
    def joined(visitor_or_contact):
        return set(visitor_or_contact.segment_memberships.values_list("segment__slug",
                                                                      flat=True))

    another_browser.get("/careers/")
    assert joined(Event.objects.latest("pk").visitor) == {"job-seekers"}

    browser_client.get("/offer/passive-house-kasia-120/")
    visitor = Event.objects.latest("pk").visitor
    assert joined(visitor) == {"passive-house-readers"}  # anonymous, for personalisation
    download_ebook(browser_client, email="ola@example.com")
    browser_client.get("/pricing/")
    contact = Contact.objects.get(email="ola@example.com")
    assert joined(contact) == {"passive-house-readers", "price-checkers", "ready-to-talk"}
