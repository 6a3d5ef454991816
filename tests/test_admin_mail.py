"""Emails in the admin: the editor, per-email and per-link statistics, the outbox report,
and who may see them."""

import datetime
import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from wagtail_leadscore.mail.models import Email, OutboxMessage, Status
from wagtail_leadscore.mail.outbox import enqueue, send_due
from wagtail_leadscore.models import Contact

from .test_mail import BODY, LATER, SENT_AT, click_links, make_email, path_of

pytestmark = pytest.mark.django_db


def test_an_email_is_written_in_the_admin(admin_client):
    response = admin_client.post(reverse("wagtailsnippets_wagtail_leadscore_email:add"), {
        "name": "Welcome", "slug": "", "kind": "marketing", "subject": "Hi {{ first_name }}",
        "preheader": "", "from_email": "",
        "body-count": "1", "body-0-type": "heading", "body-0-value": "Hello",
        "body-0-deleted": "", "body-0-order": "0", "body-0-id": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    email = Email.objects.get(slug="welcome")
    assert email.body[0].value == "Hello"


def test_statistics_count_sends_opens_clicks_per_link_and_scans(
        admin_client, browser_client, mail_server, time_machine):
    time_machine.move_to(SENT_AT, tick=False)
    email = make_email()
    for number in range(2):
        contact = Contact.objects.create(email=f"reader{number}@example.com")
        enqueue(contact, email, f"test:{number}")
    assert send_due() == {"sent": 2}
    first, second = (click_links(message) for message in mail_server.inbox.messages)
    browser_client.get(path_of(first[0]))  # within seconds of delivery: a scanner
    time_machine.move_to(LATER, tick=False)
    for link in (first[0], first[0], second[0], second[2]):
        browser_client.get(path_of(link))

    page = admin_client.get(reverse("wagtailsnippets_wagtail_leadscore_email:statistics",
                                    args=[email.pk])).content.decode()
    for stat, value in {"sent": 2, "clicked": 2, "clicks": 4, "scans": 1, "opened": 0}.items():
        assert f'data-stat="{stat}">{value}<' in page, stat
    assert page.count("data-leadscore-link") == 2  # the offer (3 clicks, 2 people), pricing
    assert "/offer/passive-house-kasia-120/</td><td>3</td><td>2</td>" in page
    listing = admin_client.get(reverse("wagtailsnippets_wagtail_leadscore_email:list"))
    assert listing.status_code == 200 and email.name in listing.content.decode()


def test_the_outbox_report_lists_and_filters_messages(admin_client, mail_server):
    email = make_email()
    for address in ("sent@example.com", "gone@example.com"):
        enqueue(Contact.objects.create(email=address), email, address)
    mail_server.inbox.refuse.add("gone@example.com")
    send_due()
    report = admin_client.get(reverse("leadscore_outbox")).content.decode()
    assert "sent@example.com" in report and "gone@example.com" in report
    assert "550" in report  # why it failed
    failed = admin_client.get(reverse("leadscore_outbox"), {"status": Status.FAILED})
    assert "gone@example.com" in failed.content.decode()
    assert "sent@example.com" not in failed.content.decode()


def test_email_views_need_permission(client, django_user_model):
    editor = django_user_model.objects.create_user("editor", password="pw")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    email = Email.objects.create(name="X", subject="X", body=json.dumps(BODY))
    for url in (reverse("wagtailsnippets_wagtail_leadscore_email:statistics", args=[email.pk]),
                reverse("wagtailsnippets_wagtail_leadscore_email:list"),
                reverse("leadscore_outbox")):
        response = client.get(url)
        assert response.status_code in (302, 403), url
    editor.user_permissions.add(Permission.objects.get(codename="view_email"))
    assert client.get(reverse("leadscore_outbox")).status_code == 200
    assert not OutboxMessage.objects.exists() and datetime
