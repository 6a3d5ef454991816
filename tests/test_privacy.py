"""Privacy: a contact's data exported and erased (GDPR), through the public surfaces."""

import json
from urllib.parse import quote

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from django.test import Client
from wagtail.log_actions import log

from wagtail_leadscore.mail.outbox import enqueue
from wagtail_leadscore.models import Contact, Event, PrivacyLogEntry, Visitor
from wagtail_leadscore.webhooks.models import Webhook, WebhookDelivery

from .lead_capture import HORACY_QUEUE, ebook
from .test_api import EVENTS, post
from .test_nurture import make_email
from .test_progressive_forms import send
from .test_scoring import download_ebook
from .test_segments import offer

pytestmark = pytest.mark.django_db

# What Zuzanna typed or is: none of it may be left anywhere once she is erased.
EMAIL, NAME, LAST_NAME, COMPANY, PHONE = (
    "zuzanna.k@quokka.example", "Zuzanna", "Kwiatkowska", "Quokkaworks Builders",
    "+48 600 999 111")
NEEDLES = ("zuzanna", "quokka", "kwiatkowsk", "600 999 111", "600999111")
# Every column that can hold text, whatever its model field (StreamField is a JSONField).
TEXT_COLUMN_TYPES = {"CharField", "TextField", "JSONField", "SlugField", "FileField",
                     "FilePathField"}


def text_columns():
    """{model: its own text and JSON columns}, for every table of every installed app."""
    columns = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [field for field in model._meta.local_concrete_fields
                  if field.get_internal_type() in TEXT_COLUMN_TYPES]
        if fields:
            columns[model] = fields
    return columns


def leftovers():
    """Every stored value that still holds one of the needles: (table.column, value). One
    query a table: each column read as text, searched in the database."""
    found = []
    for model, fields in text_columns().items():
        as_text = {f"text_{field.attname}": Cast(field.attname, models.TextField())
                   for field in fields}
        column_of = {f"text_{field.attname}": field.column for field in fields}
        holds_a_needle = Q()
        for alias in as_text:
            for needle in NEEDLES:
                holds_a_needle |= Q(**{f"{alias}__icontains": needle})
        for row in model._base_manager.annotate(**as_text).filter(holds_a_needle).values(
                *as_text):
            found.extend((f"{model._meta.db_table}.{column_of[alias]}", value)
                         for alias, value in row.items()
                         if any(needle in (value or "").lower() for needle in NEEDLES))
    return found


def test_the_scan_reads_every_text_column_of_every_app():
    columns = text_columns()
    assert sum(map(len, columns.values())) >= 286
    assert {model._meta.app_label for model in columns} >= {
        "wagtail_leadscore", "wagtailcore", "wagtailforms", "auth", "sessions", "taggit"}


@pytest.fixture
def zuzanna(browser_client, later, admin_user, api_key):
    """Zuzanna as the plugin comes to know her: pages read, three progressive forms, an
    e-book from her phone (a form-builder page: Wagtail keeps its own submission), an email
    queued, webhook calls about her, a note and a meeting in the CRM that name her, a visit
    from her webmail, and an admin edit in Wagtail's history."""
    Webhook.objects.create(name="CRM", url="https://crm.example/hooks/s3cret-token?key=k3y",
                           events=["form_submit"])
    page = offer()
    browser_client.get(page.url, {"utm_campaign": "zuzanna-spring"})
    first, second, third = (ebook(slug, per_submission, HORACY_QUEUE)
                            for slug, per_submission in (("e1", 1), ("e2", 1), ("e3", 2)))
    for form_page, answers in ((first, {"email": EMAIL, "first_name": NAME}),
                               (second, {"company": COMPANY}),
                               (third, {"company_size": "50-249", "phone": PHONE})):
        assert send(browser_client, form_page, later, **answers).status_code == 302
    her_phone = Client(HTTP_USER_AGENT=browser_client.defaults["HTTP_USER_AGENT"])
    contact = download_ebook(her_phone, email=EMAIL, company=COMPANY)
    browser_client.get(page.url, {"from": EMAIL},
                       HTTP_REFERER=f"https://webmail.example/read?from={quote(EMAIL)}")
    enqueue(contact, make_email("welcome"), "test:welcome")
    admin_client(admin_user).post(
        f"/admin/leadscore_contacts/timeline/{contact.pk}/",
        {"kind": "note", "name": f"Call with {NAME} {LAST_NAME}",
         "text": f"{NAME} wants a quote, call back on {PHONE.replace(' ', '')}"})
    assert post(Client(), EVENTS, {
        "type": "offline", "name": f"Meeting with {NAME} {LAST_NAME}", "email": EMAIL,
        "last_name": LAST_NAME, "path": f"/crm/{EMAIL}", "id": "crm-meeting-7",
        "properties": {"attendees": [f"{LAST_NAME.upper()}, {NAME}", EMAIL],
                       "account": COMPANY}}, key=api_key).status_code == 201
    log(contact, "wagtail.edit", user=admin_user)
    assert {table for table, _ in leftovers()} >= {
        "wagtail_leadscore_contact.email", "wagtail_leadscore_profilesubmission.answers",
        "wagtail_leadscore_event.name", "wagtail_leadscore_event.path",
        "wagtail_leadscore_event.properties", "wagtail_leadscore_event.query",
        "wagtail_leadscore_event.referrer", "wagtail_leadscore_webhookdelivery.payload",
        "wagtailforms_formsubmission.form_data",
        "wagtailcore_modellogentry.label"}  # the scan sees her everywhere she is
    assert contact.outbox_messages.exists() and Contact.objects.get(pk=contact.pk).phone == PHONE
    return Contact.objects.get(pk=contact.pk)


def admin_client(user):
    """An admin's own browser (the visitor's keeps its cookies)."""
    client = Client()
    client.force_login(user)
    return client


def test_erasing_a_contact_leaves_no_personal_data_in_any_table(
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
    # The anonymous traces stay, their text without her: the reports still count them.
    assert Event.objects.filter(type="page_view").count() == views_before
    assert Event.objects.filter(type="form_submit", contact=None, visitor=None).count() == 4
    assert Event.objects.filter(type="form_submit").count() == forms_before
    traces = set(Event.objects.filter(contact=None, visitor=None).values_list(
        "type", "name", "path"))
    assert {("note", "Call with […]", ""), ("offline", "Meeting with […]", "/crm/[…]")} <= traces
    assert Event.objects.filter(query="utm_campaign=[…]-spring").exists()
    assert Event.objects.filter(query="from=[…]",
                                referrer="https://webmail.example/read?from=[…]").exists()
    meeting = Event.objects.get(type="offline")
    assert meeting.properties == {"attendees": ["[…]", "[…]"], "account": "[…]"}
    assert Event.objects.filter(type="form_submit", properties__answers__company="[…]").exists()
    assert not WebhookDelivery.objects.exclude(payload={"erased": True}).exists()
    assert set(WebhookDelivery.objects.values_list("status", "last_error")) == {
        ("failed", "Not sent: its contact was erased.")}  # queued, never made
    entry = PrivacyLogEntry.objects.get()
    assert (entry.action, entry.contact_id, entry.user, entry.via) == (
        "erase", zuzanna.pk, admin_user, "admin")
    assert entry.details["form_submissions"] == 4 and entry.details["browsers"] == 2
    assert entry.details["form_builder_submissions"] == 1
    audit = client.get("/admin/reports/leadscore-privacy-log/").content.decode()
    assert "Personal data erased" in audit and "form_submissions: 4" in audit
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


def test_the_export_holds_the_ledger_the_owner_automation_runs_and_webhook_calls(
        zuzanna, admin_user, django_user_model, api_key, capsys):
    from .test_automation import rule

    anna = django_user_model.objects.create_user("anna", "anna@timberandsun.example",
                                                 first_name="Anna", last_name="Nowak")
    rule("Quotes to the CRM", "custom_event", value="quote_requested", actions=[
        ("assign_owner", {"user": str(anna.pk), "group": "", "keep_owner": True}),
        ("webhook", {"webhook": Webhook.objects.get().pk})])
    assert post(Client(), EVENTS, {"type": "custom", "name": "quote_requested",
                                   "email": EMAIL}, key=api_key).status_code == 201

    response = admin_client(admin_user).get(f"/admin/leadscore_contacts/export/{zuzanna.pk}/")
    assert response.status_code == 200
    exported = json.loads(response.content)
    assert exported["owner"]["name"] == "Anna Nowak" and exported["owner"]["since"]
    assert [(run["rule"], run["status"]) for run in exported["automation_runs"]] == [
        ("Quotes to the CRM", "done")]
    ledger = exported["ledger"]
    assert {"occurred_at", "score", "reason", "points", "counts"} == set(ledger[0])
    assert sum(entry["points"] for entry in ledger
               if entry["score"] == "global" and entry["counts"]) == exported["scores"]["global"]
    assert any(entry["reason"] and entry["points"] > 0 for entry in ledger)
    calls = exported["webhook_calls"]
    assert sorted(call["event"] for call in calls) == ["automation", *["form_submit"] * 4]
    assert {(call["webhook"], call["endpoint"], call["status"]) for call in calls} == {
        ("CRM", "https://crm.example", "queued")}  # the URL's path and query: its secret
    assert "s3cret" not in response.content.decode() and "k3y" not in response.content.decode()
    assert all(call["payload"]["data"]["contact"]["email"] == EMAIL for call in calls
               if call["event"] == "automation")
    assert {"created_at", "delivered_at", "attempts", "response_status"} <= set(calls[0])

    call_command("leadscore_privacy", "export", EMAIL)
    by_command = json.loads(capsys.readouterr().out)
    assert {key: by_command[key] for key in ("owner", "ledger", "automation_runs",
                                            "webhook_calls")} == {
        key: exported[key] for key in ("owner", "ledger", "automation_runs", "webhook_calls")}


def test_after_an_objection_nothing_watches_the_person(zuzanna, admin_user, browser_client,
                                                       another_browser, later):
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
    assert (entry.contact_id, entry.via, entry.details) == (zuzanna.pk, "admin", {"browsers": 2})
    page = client.get(f"/admin/leadscore_contacts/inspect/{zuzanna.pk}/").content.decode()
    assert "objected to tracking on" in page and "Object to tracking</a>" not in page
