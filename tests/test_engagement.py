"""Engagement with frozen time: active, cooling, inactive from what a contact last did; an
inactive contact gets no marketing email (transactional still goes) and keeps its history;
coming back makes it reachable again at once."""

import datetime

import pytest

from wagtail_leadscore.lifecycle.stages import Engagement
from wagtail_leadscore.mail.outbox import enqueue, send_due
from wagtail_leadscore.models import Contact, Event
from wagtail_leadscore.tasks import update_engagement

from .test_mail import make_email
from .test_scoring import START, download_ebook, view

pytestmark = pytest.mark.django_db


def days(number):
    return START + datetime.timedelta(days=number)


def engagement_of(contact):
    contact.refresh_from_db()
    return contact.engagement


def test_engagement_follows_what_the_contact_did(browser_client, demo_pages, mail_server,
                                                 time_machine):
    time_machine.move_to(START, tick=False)
    contact = download_ebook(browser_client)
    history = Event.objects.filter(contact=contact).count()
    update_engagement()
    assert engagement_of(contact) == Engagement.ACTIVE

    time_machine.move_to(days(40), tick=False)
    enqueue(contact, make_email("day-40"), "news:40")
    assert send_due() == {"sent": 1}  # cooling: still emailed
    update_engagement()
    assert engagement_of(contact) == Engagement.COOLING

    time_machine.move_to(days(135), tick=False)  # 95 days after the e-book; email_sent is
    update_engagement()                          # the system's doing, not a sign of life
    assert engagement_of(contact) == Engagement.INACTIVE
    enqueue(contact, make_email("day-135"), "news:135")
    enqueue(contact, make_email("receipt", kind="transactional"), "receipt:135")
    assert send_due() == {"suppressed": 1, "sent": 1}
    assert Event.objects.filter(contact=contact).count() == history + 2  # kept, + 2 sends

    view(browser_client, demo_pages[0])  # back again: reachable before the daily run
    enqueue(contact, make_email("welcome-back"), "news:back")
    assert send_due() == {"sent": 1}
    update_engagement()
    assert engagement_of(contact) == Engagement.ACTIVE
    recipients = [message["To"] for message in mail_server.inbox.messages]
    assert recipients == ["horacy@example.com"] * 3


def test_a_contact_that_never_did_anything_cools_from_its_creation(time_machine):
    time_machine.move_to(START, tick=False)
    imported = Contact.objects.create(email="imported@example.com")
    time_machine.move_to(days(31), tick=False)
    assert update_engagement()[Engagement.COOLING] == 1
    assert engagement_of(imported) == Engagement.COOLING
