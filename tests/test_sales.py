"""The sales handoff through public surfaces: a contact who becomes a lead triggers an
alert that arrives at a real SMTP server with the lead's dossier; its signed links accept
the lead or send it back to nurturing (a GET changes nothing); tampered links are 404."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from timberframe.models import OfferPage
from wagtail_leadscore.events import record_event
from wagtail_leadscore.lifecycle.stages import Stage
from wagtail_leadscore.mail.models import OutboxMessage
from wagtail_leadscore.mail.outbox import send_due
from wagtail_leadscore.models import (
    Contact,
    Event,
    FitRule,
    LeadDefinition,
    SalesHandoff,
    ScoringRule,
)
from wagtail_leadscore.nurture.models import Enrolment

from .mail_server import html_part, text_part
from .test_nurture import sequence
from .test_scoring import download_ebook, view

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(django_user_model):
    """The sales team: a group of one, who gets every lead without an owner."""
    sales, _ = Group.objects.get_or_create(name="Sales")  # the demo makes it (leadscore_groups)
    user = django_user_model.objects.create_user("anna", "anna@timberandsun.example",
                                                 first_name="Anna")
    user.groups.add(sales)
    handoff = SalesHandoff.load()
    handoff.owner_group = sales
    handoff.save()
    return user


@pytest.fixture
def lead(browser_client, anna, mail_server):
    """Horacy downloads the e-book, reads an offer, meets us at a fair, and qualifies."""
    FitRule.objects.update(is_active=False)
    LeadDefinition.objects.update(min_score=60, required_facts="", min_fit_grade="")
    ScoringRule.objects.create(name="Met at a fair", trigger="offline_event",
                               value="trade-fair", points=5)
    contact = download_ebook(browser_client, company="Horacy <Builders> & Co")
    record_event("offline", contact=contact, name="trade-fair")
    offer = OfferPage.objects.get(slug="passive-house-kasia-120")
    while Contact.objects.get(pk=contact.pk).stage != Stage.LEAD:
        view(browser_client, offer)
    assert send_due() == {"sent": 1}
    [alert] = mail_server.inbox.messages
    return Contact.objects.get(pk=contact.pk), alert


def decision_links(alert):
    html = html_part(alert)
    accept = re.search(r'href="([^"]*/leadscore/sales/accept/[^"]+)"', html).group(1)
    back = re.search(r'href="([^"]*/leadscore/sales/back/[^"]+)"', html).group(1)
    return urlsplit(accept).path, urlsplit(back).path


def test_the_alert_tells_the_owner_everything_known_about_the_lead(lead, anna):
    contact, alert = lead
    assert contact.owner == anna  # the group's member, in turns
    assert alert["To"] == "anna@timberandsun.example"
    assert alert["Subject"] == "New lead: horacy@example.com (Horacy <Builders> & Co)"
    html, text = html_part(alert), text_part(alert)
    assert "Horacy &lt;Builders&gt; &amp; Co" in html and "<Builders>" not in html
    assert "Horacy <Builders> & Co" in text  # plain text is not HTML
    assert "company_size: 50-249" in text  # a form answer
    assert "Viewed “Passive house Kasia 120 m²”: 10" in text  # a top reason
    assert "Passive houses: 20" in text  # a topic score
    assert re.search(r"- [\d-]+ [\d:]+: Passive house Kasia 120 m²", text)  # a page read
    assert re.search(r"Offline\s+- [\d-]+ [\d:]+: trade-fair", text)
    forms = text.split("\nForms")[1].split("\nOffline")[0]
    assert forms.count("Smart home costs e-book") == 1  # its submission, not its event too
    assert re.search(r"Score: \d+", text)
    assert "/admin/" in html and f"/inspect/{contact.pk}/" in html
    accept, back = decision_links(alert)
    assert accept in text and back in text
    assert "/leadscore/m/" not in html  # about the lead, to sales: not tracked


def test_accepting_from_the_alert_makes_the_lead_sales_accepted(lead, client, anna):
    contact, alert = lead
    accept, _ = decision_links(alert)
    page = client.get(accept)  # what a mail scanner does
    assert page.status_code == 200 and "Accept the lead" in page.content.decode()
    assert Contact.objects.get(pk=contact.pk).stage == Stage.LEAD
    done = client.post(accept)
    assert done.status_code == 200 and "data-leadscore-decided" in done.content.decode()
    assert Contact.objects.get(pk=contact.pk).stage == Stage.SAL
    change = Event.objects.filter(contact=contact, type="stage_change").latest("pk")
    assert change.properties["to"] == Stage.SAL and change.properties["by"] == "anna"
    assert change.properties["via"] == "sales_alert"
    again = client.post(accept)  # decided already: nothing changes
    assert "Decided already" in again.content.decode()


def test_a_tampered_or_foreign_link_is_refused(lead, client):
    contact, alert = lead
    accept, back = decision_links(alert)
    token = accept.rstrip("/").rsplit("/", 1)[1]
    tampered = accept.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    for path in (tampered, "/leadscore/sales/accept/1/", "/leadscore/sales/back/nothing/",
                 accept.replace("/accept/", "/back/")):  # an accept token cannot send back
        assert client.post(path, {"reason": "x"}).status_code == 404, path
    assert Contact.objects.get(pk=contact.pk).stage == Stage.LEAD


def test_decision_links_expire_thirty_days_after_the_alert(lead, client, time_machine):
    contact, alert = lead
    accept, back = decision_links(alert)
    sent_at = OutboxMessage.objects.get(source="lead_alert").sent_at
    time_machine.move_to(sent_at + datetime.timedelta(days=30), tick=False)  # SALES_LINK_MAX_AGE
    assert "Accept the lead" in client.get(accept).content.decode()
    time_machine.move_to(sent_at + datetime.timedelta(days=31), tick=False)
    for path in (accept, back):
        page = client.get(path)
        assert page.status_code == 410 and "This link has expired" in page.content.decode()
        assert "horacy" not in page.content.decode().lower()  # an old link reveals nobody
        assert client.post(path, {"reason": "too late"}).status_code == 410
    assert Contact.objects.get(pk=contact.pk).stage == Stage.LEAD


def test_sending_back_needs_a_reason_and_re_enrols(lead, client):
    contact, alert = lead
    handoff = SalesHandoff.load()
    handoff.send_back_sequence = sequence("Warm up", [(3, "case-study")])
    handoff.save()
    _, back = decision_links(alert)
    assert "Enrol in “Warm up”" in client.get(back).content.decode()
    refused = client.post(back, {"reason": "", "enrol": "on"})
    assert refused.status_code == 200 and "required" in refused.content.decode()
    assert Contact.objects.get(pk=contact.pk).stage == Stage.LEAD
    client.post(back, {"reason": "Budget next year <maybe>", "enrol": "on"})
    assert Contact.objects.get(pk=contact.pk).stage == Stage.NURTURE
    change = Event.objects.filter(contact=contact, type="stage_change").latest("pk")
    assert change.properties["reason"] == "Budget next year <maybe>"
    assert Enrolment.objects.get(contact=contact).sequence == handoff.send_back_sequence


def test_without_an_owner_the_team_address_hears(browser_client, mail_server):
    LeadDefinition.objects.update(min_score=1, required_facts="", min_fit_grade="")
    FitRule.objects.update(is_active=False)
    handoff = SalesHandoff.load()
    handoff.alert_to = "sales@timberandsun.example, boss@timberandsun.example"
    handoff.save()
    contact = download_ebook(browser_client)
    view(browser_client, OfferPage.objects.get(slug="passive-house-kasia-120"))
    assert Contact.objects.get(pk=contact.pk).stage == Stage.LEAD
    send_due()
    assert sorted(message["To"] for message in mail_server.inbox.messages) == [
        "boss@timberandsun.example", "sales@timberandsun.example"]


STAGES = "/leadscore/api/stages/"


def test_the_crm_sets_stages_and_bad_input_is_a_clear_400(client, api_key):
    from .test_api import post

    customer = Contact.objects.create(email="buyer@example.com")
    response = post(client, STAGES, [
        {"email": "Buyer@Example.com", "stage": "sql", "reason": "budget confirmed"},
        {"email": "buyer@example.com", "stage": "customer", "reason": "contract signed"}],
        key=api_key)
    assert response.status_code == 201, response.content
    assert [result["stage"] for result in response.json()["results"]] == ["sql", "customer"]
    changes = Event.objects.filter(contact=customer, type="stage_change").order_by("pk")
    assert [(change.properties["to"], change.properties["reason"], change.properties["via"])
            for change in changes] == [("sql", "budget confirmed", "api"),
                                       ("customer", "contract signed", "api")]
    refused = post(client, STAGES, [{"email": "buyer@example.com", "stage": "disqualified"},
                                    {"email": "nobody@example.com", "stage": "sql"},
                                    {"email": "buyer@example.com", "stage": "hot"}], key=api_key)
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert set(errors) == {"1.email", "2.stage"} and "No contact" in errors["1.email"][0]
    assert Contact.objects.get(pk=customer.pk).stage == Stage.CUSTOMER  # all or nothing
    assert post(client, STAGES, {"email": "buyer@example.com", "stage": "sql"}).status_code \
        == 401


def test_a_big_purchase_notifies_the_owner(client, api_key, anna, mail_server):
    from .test_api import EVENTS, post
    from .test_automation import alert_email, rule

    rule("Big purchase", "purchase_at_least", value="500",
         actions=[("notify_sales", {"owner": True, "to": "", "email": alert_email().pk})])
    buyer = Contact.objects.create(email="buyer@example.com", owner=anna)
    for number, amount in enumerate((300, 1200)):
        response = post(client, EVENTS, {"type": "purchase", "email": buyer.email,
                                         "properties": {"amount": amount, "currency": "PLN"},
                                         "id": f"order-{number}"}, key=api_key)
        assert response.status_code == 201, response.content
    bad = post(client, EVENTS, {"type": "purchase", "email": buyer.email,
                                "properties": {"amount": "lots"}}, key=api_key)
    assert bad.status_code == 400 and "amount" in bad.json()["errors"]["properties"][0]
    assert send_due() == {"sent": 1}
    [alert] = mail_server.inbox.messages
    assert alert["To"] == "anna@timberandsun.example"


def test_digests_go_once_per_day_and_week_and_never_empty(browser_client, mail_server,
                                                           time_machine, admin_client):
    import datetime

    from wagtail_leadscore.models import DigestRecipient
    from wagtail_leadscore.sales.digests import send_digests

    from .test_segments import segment

    # Wednesday 4 March 2026, 10:00 in Warsaw (the example site's time zone).
    wednesday = datetime.datetime(2026, 3, 4, 9, 0, tzinfo=datetime.UTC)
    time_machine.move_to(wednesday, tick=False)
    add = reverse("leadscore_digest_recipients:add")
    assert admin_client.post(add, {"email": "boss@timberandsun.example", "name": "Boss",
                                   "frequency": "weekly", "is_active": "on"}).status_code == 302
    DigestRecipient.objects.create(email="anna@timberandsun.example", frequency="daily")
    segment("Everyone identified", ("stage", {"stages": [Stage.PROSPECT, Stage.LEAD]}))
    LeadDefinition.objects.update(min_score=40, required_facts="", min_fit_grade="")
    FitRule.objects.update(is_active=False)
    assert send_digests() == {"sent": 0, "empty": 2}  # nothing happened on Tuesday

    contact = download_ebook(browser_client)
    offer = OfferPage.objects.get(slug="passive-house-kasia-120")
    while Contact.objects.get(pk=contact.pk).stage != Stage.LEAD:
        view(browser_client, offer)
    time_machine.move_to(wednesday + datetime.timedelta(hours=20), tick=False)  # Thursday
    assert send_digests() == {"sent": 1, "empty": 0}  # Anna: Wednesday's; the boss: done
    assert send_digests() == {"sent": 0, "empty": 0}  # the task ran twice: once
    [daily] = mail_server.inbox.to("anna@timberandsun.example")
    assert daily["Subject"] == "Leads of 2026-03-04"
    html, text = html_part(daily), text_part(daily)
    assert 'data-leadscore-digest="new"' in html and "horacy@example.com" in text
    assert "Horacy Builders" in html
    assert re.search(r"Gaining most points\s+- horacy@example.com: \+\d+", text)
    assert "Everyone identified: 1" in text
    assert f"/inspect/{contact.pk}/" in html

    time_machine.move_to(datetime.datetime(2026, 3, 6, 9, 0, tzinfo=datetime.UTC), tick=False)
    assert send_digests() == {"sent": 0, "empty": 1}  # a quiet Thursday: no email
    time_machine.move_to(datetime.datetime(2026, 3, 9, 7, 0, tzinfo=datetime.UTC), tick=False)
    outcome = send_digests()  # Monday: last week's news for the boss
    assert outcome["sent"] == 1
    [weekly] = mail_server.inbox.to("boss@timberandsun.example")
    assert weekly["Subject"] == "Leads of the week 2026-W10"
    assert "horacy@example.com" in text_part(weekly)
    assert send_digests()["sent"] == 0


def test_sales_sets_the_stage_in_the_admin(admin_client, admin_user, client,
                                          django_user_model):
    from django.contrib.auth.models import Permission

    contact = Contact.objects.create(email="buyer@example.com", stage=Stage.SAL)
    inspect = admin_client.get(reverse("leadscore_contacts:inspect", args=[contact.pk]))
    url = reverse("leadscore_contacts:stage", args=[contact.pk])
    assert url in inspect.content.decode()
    assert admin_client.get(url).status_code == 200
    bad = admin_client.post(url, {"stage": "hot", "reason": ""})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    done = admin_client.post(url, {"stage": Stage.SQL, "reason": "demo went well"})
    assert done.status_code == 302
    change = Event.objects.get(contact=contact, type="stage_change")
    assert (change.properties["to"], change.properties["by"], change.properties["via"],
            change.properties["reason"]) == (Stage.SQL, admin_user.username, "admin",
                                             "demo went well")
    editor = django_user_model.objects.create_user("editor", password="pw")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    assert client.post(url, {"stage": Stage.CUSTOMER}).status_code in (302, 403)
    assert Contact.objects.get(pk=contact.pk).stage == Stage.SQL
