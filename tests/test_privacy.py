"""Privacy: a contact's data exported and erased (GDPR), through the public surfaces."""

import json

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.test import Client
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from wagtail_leadscore.mail.outbox import enqueue
from wagtail_leadscore.models import Contact, Event, PrivacyLogEntry, Visitor
from wagtail_leadscore.webhooks.models import Webhook, WebhookDelivery

from .lead_capture import HORACY_QUEUE, ebook
from .test_nurture import make_email
from .test_progressive_forms import fresh_rate_limits, later, send  # noqa: F401 - fixtures
from .test_segments import offer

pytestmark = pytest.mark.django_db

# What Zuzanna typed or is: none of it may be left anywhere once she is erased.
EMAIL, NAME, COMPANY, PHONE = ("zuzanna.k@quokka.example", "Zuzanna", "Quokkaworks Builders",
                               "+48 600 999 111")
NEEDLES = ("zuzanna", "quokka", "600 999 111")


def text_columns():
    """(model, field) of every text and JSON column of the plugin's tables, and of
    Wagtail's model history (its labels name objects)."""
    plugin = list(apps.get_app_config("wagtail_leadscore").get_models())
    for model in [*plugin, ModelLogEntry]:
        for field in model._meta.concrete_fields:
            if isinstance(field, (models.CharField, models.TextField, models.JSONField)):
                yield model, field


def leftovers():
    """Every stored value that still holds one of the needles: (table.column, value)."""
    found = []
    for model, field in text_columns():
        for value in model.objects.values_list(field.attname, flat=True):
            text = json.dumps(value) if not isinstance(value, str) else value
            if any(needle in (text or "").lower() for needle in NEEDLES):
                found.append((f"{model._meta.db_table}.{field.column}", value))
    return found


@pytest.fixture
def zuzanna(browser_client, later, admin_user):  # noqa: F811 - the imported fixture
    """Zuzanna as the plugin comes to know her: pages read, three progressive forms, an
    email queued, webhook calls about her, a note, and an admin edit in Wagtail's history."""
    Webhook.objects.create(name="CRM", url="https://crm.example/hooks", events=["form_submit"])
    page = offer()
    browser_client.get(page.url, {"utm_campaign": "zuzanna-spring"})
    first, second, third = (ebook(slug, per_submission, HORACY_QUEUE)
                            for slug, per_submission in (("e1", 1), ("e2", 1), ("e3", 2)))
    for form_page, answers in ((first, {"email": EMAIL, "first_name": NAME}),
                               (second, {"company": COMPANY}),
                               (third, {"company_size": "50-249", "phone": PHONE})):
        assert send(browser_client, form_page, later, **answers).status_code == 302
    contact = Contact.objects.get(email=EMAIL)
    enqueue(contact, make_email("welcome"), "test:welcome")
    admin_client(admin_user).post(f"/admin/leadscore_contacts/timeline/{contact.pk}/",
                                  {"kind": "note", "name": "Call", "text": f"{NAME} wants a quote"})
    log(contact, "wagtail.edit", user=admin_user)
    assert {table for table, _ in leftovers()} >= {
        "wagtail_leadscore_contact.email", "wagtail_leadscore_profilesubmission.answers",
        "wagtail_leadscore_event.properties", "wagtail_leadscore_event.query",
        "wagtail_leadscore_webhookdelivery.payload",
        "wagtailcore_modellogentry.label"}  # the scan sees her everywhere she is
    assert contact.outbox_messages.exists() and contact.phone == PHONE
    return contact


def admin_client(user):
    """An admin's own browser (the visitor's keeps its cookies)."""
    client = Client()
    client.force_login(user)
    return client


def test_erasing_a_contact_leaves_no_personal_data_in_any_plugin_table(
        zuzanna, admin_user, browser_client):
    cookie = browser_client.cookies["leadscore_vid"].value
    views_before = Event.objects.filter(type="page_view").count()
    forms_before = Event.objects.filter(type="form_submit").count()
    client = admin_client(admin_user)
    confirm = client.get(f"/admin/leadscore_contacts/delete/{zuzanna.pk}/")
    assert confirm.status_code == 200
    response = client.post(f"/admin/leadscore_contacts/delete/{zuzanna.pk}/")
    assert response.status_code == 302

    assert leftovers() == []
    # The anonymous traces stay: the reports still count the views and the forms.
    assert Event.objects.filter(type="page_view").count() == views_before
    assert Event.objects.filter(type="form_submit", contact=None, visitor=None).count() == 3
    assert Event.objects.filter(type="form_submit").count() == forms_before
    assert WebhookDelivery.objects.filter(payload={"erased": True}).count() == 3
    entry = PrivacyLogEntry.objects.get()
    assert (entry.action, entry.contact_id, entry.user, entry.via) == (
        "erase", zuzanna.pk, admin_user, "admin")
    assert entry.details["form_submissions"] == 3 and entry.details["browsers"] == 1
    audit = client.get("/admin/reports/leadscore-privacy-log/").content.decode()
    assert "Personal data erased" in audit and "form_submissions: 3" in audit
    # Her browser, back with the old cookie, is a stranger.
    browser_client.cookies["leadscore_vid"] = cookie
    assert browser_client.get(offer().url).status_code == 200
    assert Visitor.objects.get(events__path=offer().url, events__contact=None,
                               events__properties={}).contact is None


def test_the_privacy_command_exports_then_erases(zuzanna, capsys):
    call_command("leadscore_privacy", "export", EMAIL.upper())
    exported = json.loads(capsys.readouterr().out)
    assert exported["contact"]["phone"] == PHONE
    assert {submission["answers"].get("company") for submission in
            exported["form_submissions"]} >= {COMPANY}
    call_command("leadscore_privacy", "erase", EMAIL, "--yes")
    assert leftovers() == []
    assert list(PrivacyLogEntry.objects.order_by("at").values_list("action", "via")) == [
        ("export", "command"), ("erase", "command")]
    with pytest.raises(Exception, match="No contact has the address"):
        call_command("leadscore_privacy", "erase", EMAIL, "--yes")


def test_after_an_objection_nothing_watches_the_person(zuzanna, admin_user, browser_client,
                                                       another_browser, later):  # noqa: F811
    from wagtail_leadscore import record_event

    from .test_beacon import beacon

    client = admin_client(admin_user)
    assert "Object to tracking" in client.get(
        f"/admin/leadscore_contacts/inspect/{zuzanna.pk}/").content.decode()
    assert client.post(f"/admin/leadscore_contacts/object/{zuzanna.pk}/").status_code == 302
    watched = Event.objects.filter(type__in=["page_view", "custom", "email_open"])
    before = watched.count()
    assert browser_client.get(offer().url).status_code == 200  # her browser, returning
    assert beacon(browser_client, type="custom", name="cta").status_code < 300
    assert record_event("email_open", contact=Contact.objects.get(pk=zuzanna.pk)) is None
    assert watched.count() == before
    # On a new device she is a stranger, until she identifies: then that browser too.
    another_browser.get(offer().url)
    assert watched.count() == before + 1
    fourth = ebook("e4", 1, HORACY_QUEUE)
    assert send(another_browser, fourth, later, email=EMAIL, first_name=NAME).status_code == 302
    identified = watched.count()  # with the form page's view, still a stranger's then
    another_browser.get(offer().url)
    assert watched.count() == identified
    assert Event.objects.filter(type="form_submit", contact=zuzanna, page=fourth).exists()
    assert Visitor.objects.filter(contact=zuzanna, tracking_objected=False).count() == 0
    entry = PrivacyLogEntry.objects.get(action="object")
    assert (entry.contact_id, entry.via, entry.details) == (zuzanna.pk, "admin", {"browsers": 1})
    page = client.get(f"/admin/leadscore_contacts/inspect/{zuzanna.pk}/").content.decode()
    assert "objected to tracking on" in page and "Object to tracking</a>" not in page
