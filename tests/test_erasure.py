"""After an erasure the admin, the reports, the digests and the sales alerts still work:
a person's anonymous traces (events without contact or browser) render everywhere."""

import datetime
import logging
import re

import pytest
from wagtail import hooks

from timberframe.models import OfferPage
from wagtail_leadscore.lifecycle.stages import Stage
from wagtail_leadscore.mail.outbox import send_due
from wagtail_leadscore.models import (
    Contact,
    DigestRecipient,
    DigestSent,
    Event,
    FitRule,
    LeadDefinition,
    SalesHandoff,
)
from wagtail_leadscore.privacy.erase import erase_contact
from wagtail_leadscore.sales.digests import send_digests

from .mail_server import html_part, text_part
from .test_scoring import download_ebook, view

pytestmark = pytest.mark.django_db

# Wednesday 4 March 2026, 10:00 in Warsaw (the example site's time zone).
WEDNESDAY = datetime.datetime(2026, 3, 4, 9, 0, tzinfo=datetime.UTC)
THURSDAY = WEDNESDAY + datetime.timedelta(days=1)
NEXT_MONDAY = datetime.datetime(2026, 3, 9, 7, 0, tzinfo=datetime.UTC)
SALES = "sales@timberandsun.example"


def become_lead(browser, email, company):
    """A visitor downloads the e-book, then reads the offer until they are a lead."""
    contact = download_ebook(browser, email=email, company=company)
    offer = OfferPage.objects.get(slug="passive-house-kasia-120")
    while Contact.objects.get(pk=contact.pk).stage != Stage.LEAD:
        view(browser, offer)
    return Contact.objects.get(pk=contact.pk)


@pytest.fixture
def erased_lead(browser_client, time_machine):
    """Horacy became a lead this Wednesday (an alert queued for sales), then was erased."""
    time_machine.move_to(WEDNESDAY, tick=False)
    LeadDefinition.objects.update(min_score=40, required_facts="", min_fit_grade="")
    FitRule.objects.update(is_active=False)
    handoff = SalesHandoff.load()
    handoff.alert_to = SALES
    handoff.save()
    contact = become_lead(browser_client, "horacy@example.com", "Horacy Builders")
    assert contact.outbox_messages.filter(source="lead_alert").exists()
    erase_contact(contact)
    assert Event.objects.filter(type="lead_qualified", contact=None, visitor=None).count() == 1
    return contact


def report_urls():
    """Every report of the admin's Reports menu, Wagtail's own included."""
    return [register().url for register in hooks.get_hooks("register_reports_menu_item")]


def test_after_erasing_this_weeks_lead_the_dashboard_and_every_report_render(
        erased_lead, admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    new = html.split('data-leadscore-dashboard="new"')[1].split("</ul>")[0]
    assert "1 new lead this week" in html and "Erased contact" in new and "href" not in new
    urls = report_urls()
    assert len(urls) >= 10  # the plugin's nine and Wagtail's
    for url in urls:
        assert admin_client.get(url).status_code == 200, url


def test_after_erasing_a_lead_the_digests_and_the_next_alert_still_arrive(
        erased_lead, another_browser, mail_server, time_machine):
    DigestRecipient.objects.create(email="anna@timberandsun.example", frequency="daily")
    DigestRecipient.objects.create(email="boss@timberandsun.example", frequency="weekly")
    # The erased lead's alert, queued, went with it; the next lead's arrives, its own.
    olga = become_lead(another_browser, "olga@example.com", "Olga Timber")
    assert send_due() == {"sent": 1}
    [alert] = mail_server.inbox.messages
    assert alert["To"] == SALES and "olga@example.com" in text_part(alert)
    assert "horacy" not in (html_part(alert) + text_part(alert)).lower()

    time_machine.move_to(THURSDAY, tick=False)
    assert send_digests() == {"sent": 1, "empty": 1}  # Anna: Wednesday's; the boss: last week
    [daily] = mail_server.inbox.to("anna@timberandsun.example")
    html, text = html_part(daily), text_part(daily)
    new = html.split('data-leadscore-digest="new"')[1].split("</ul>")[0]
    assert "Erased contact" in new and f"/inspect/{olga.pk}/" in new
    assert new.count("<a ") == 1  # no link to the erased one
    assert re.search(r"- Erased contact: \d+ points\s", text)  # its score is no secret
    assert "horacy" not in (html + text).lower()
    assert not DigestSent.objects.filter(status="sending").exists()

    time_machine.move_to(NEXT_MONDAY, tick=False)
    assert send_digests()["sent"] == 1  # last week's, for the boss
    [weekly] = mail_server.inbox.to("boss@timberandsun.example")
    assert "Erased contact" in text_part(weekly) and "olga@example.com" in text_part(weekly)


def test_a_digest_claim_left_by_a_dead_run_is_taken_over_and_logged(
        erased_lead, mail_server, time_machine, caplog):
    anna = DigestRecipient.objects.create(email="anna@timberandsun.example")
    time_machine.move_to(THURSDAY, tick=False)
    DigestSent.objects.create(recipient=anna, period="2026-03-04",  # a worker killed mid-send
                              claimed_at=THURSDAY - datetime.timedelta(minutes=20))
    with caplog.at_level(logging.WARNING, logger="wagtail_leadscore.sales.digests"):
        assert send_digests() == {"sent": 1, "empty": 0}
    assert "claimed 20 minutes ago" in caplog.text and "anna@timberandsun.example" in caplog.text
    assert len(mail_server.inbox.to("anna@timberandsun.example")) == 1


def test_a_digest_that_fails_is_logged_released_and_sent_by_the_next_run(
        erased_lead, mail_server, time_machine, caplog):
    DigestRecipient.objects.create(email="anna@timberandsun.example")
    DigestRecipient.objects.create(email="boss@timberandsun.example")
    mail_server.inbox.refuse.add("anna@timberandsun.example")
    time_machine.move_to(THURSDAY, tick=False)
    with caplog.at_level(logging.ERROR, logger="wagtail_leadscore.sales.digests"):
        assert send_digests() == {"sent": 1, "empty": 0}  # the boss still gets his
    assert "Sending the lead digest to anna@timberandsun.example failed" in caplog.text
    assert not DigestSent.objects.filter(recipient__email="anna@timberandsun.example").exists()
    mail_server.inbox.refuse.clear()
    time_machine.move_to(THURSDAY + datetime.timedelta(hours=1), tick=False)
    assert send_digests() == {"sent": 1, "empty": 0}
    assert len(mail_server.inbox.to("anna@timberandsun.example")) == 1
