"""The contact's page in the admin (score over time, visits, segments, sequences, emails,
notes and offline events) and companies (accounts)."""

import datetime

import pytest
from django.utils import timezone

from wagtail_leadscore import identify, record_event
from wagtail_leadscore.mail.outbox import enqueue
from wagtail_leadscore.models import Company, Contact, Event, Score, Visitor
from wagtail_leadscore.nurture.scheduler import enrol

from .test_nurture import sequence
from .test_segments import offer, segment, visited

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def contact_page(client, contact):
    response = client.get(f"/admin/leadscore_contacts/inspect/{contact.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_contact_page_tells_the_whole_story(admin_client):
    readers = segment("Offer readers", visited("url_contains", "/offer/"))
    contact = identify(None, "horacy@example.com")
    visitor = Visitor.objects.create(contact=contact)
    page = offer()
    morning = timezone.now() - datetime.timedelta(days=2)
    for minutes in (0, 5, 12, 200):  # two visits: 12 minutes, then one view hours later
        record_event("page_view", visitor=visitor, page=page, path=page.url,
                     occurred_at=morning + datetime.timedelta(minutes=minutes))
    nurture = sequence("Passive house nurture", [(1, "welcome")])
    enrol(contact, nurture)
    message = enqueue(contact, nurture.steps.first().email, "test:1")
    html = contact_page(admin_client, contact)
    assert html.count('class="leadscore-visit"') == 2
    assert ": 3 pages, 12 min" in html and ": 1 page" in html
    assert '<svg class="leadscore-chart"' in html and "Points earned in the last" in html
    assert readers.name in html and "Passive house nurture" in html
    assert message.email.name in html and "Queued" in html


def test_a_note_and_an_offline_event_join_the_timeline(admin_client):
    contact = identify(None, "horacy@example.com")
    url = f"/admin/leadscore_contacts/timeline/{contact.pk}/"
    assert "A note" in admin_client.get(url, {"kind": "note"}).content.decode()
    response = admin_client.post(url, {"kind": "note", "name": "Called <b>back</b>",
                                       "text": "Wants <script>x</script> a quote"})
    assert response.status_code == 302
    note = Event.objects.get(type="note", contact=contact)
    assert note.properties == {"text": "Wants <script>x</script> a quote", "by": "admin"}
    fair_day = timezone.localdate() - datetime.timedelta(days=3)
    admin_client.post(url, {"kind": "offline", "name": "Budma 2027", "day": fair_day})
    fair = Event.objects.get(type="offline", contact=contact)
    assert fair.name == "Budma 2027" and timezone.localdate(fair.occurred_at) == fair_day
    html = contact_page(admin_client, contact)
    assert "Called &lt;b&gt;back&lt;/b&gt;" in html and "&lt;script&gt;x" in html
    assert "<script>x</script>" not in html
    future = admin_client.post(url, {"kind": "offline", "name": "Later",
                                     "day": timezone.localdate() + datetime.timedelta(days=2)})
    assert future.status_code == 200 and "Must not be in the future." in future.content.decode()
    missing = admin_client.post(url, {"kind": "nonsense", "name": ""})
    assert missing.status_code == 200 and "This field is required." in missing.content.decode()
    assert Event.objects.filter(type__in=("note", "offline")).count() == 2


def test_contacts_join_their_company_by_email_domain_or_by_hand(admin_client):
    early = identify(None, "anna@timberframe.example", first_name="Anna")
    response = admin_client.post("/admin/leadscore_companies/new/", {
        "name": "Timberframe", "domain": "@TimberFrame.example", "facts": '{"crm_id": "A-17"}'})
    assert response.status_code == 302
    company = Company.objects.get()
    assert company.domain == "timberframe.example"
    assert list(company.contacts.all()) == [early]  # a contact known before the company
    later = identify(None, "bob@timberframe.example")
    other = identify(None, "carl@elsewhere.example")
    assert Contact.objects.get(pk=later.pk).account == company
    other.account = company  # set by hand: a consultant working for them
    other.save()
    freelancer = identify(None, "dora@gmail.com")
    assert Contact.objects.get(pk=freelancer.pk).account is None
    page = offer()
    for contact, views in ((early, 3), (later, 1)):
        for _ in range(views):
            record_event("page_view", contact=contact, page=page, path=page.url)
    account_score = sum(Score.objects.filter(dimension="global", contact__account=company)
                        .values_list("value", flat=True))
    assert account_score > 0
    listing = admin_client.get("/admin/leadscore_companies/").content.decode()
    assert "Timberframe" in listing
    assert f">{account_score}<" in listing.replace(" ", "").replace("\n", "")
    page = admin_client.get(f"/admin/leadscore_companies/inspect/{company.pk}/")
    html = page.content.decode()
    assert f"Account score: <strong>{account_score}</strong>" in html and "3 contacts" in html
    assert "A-17" in html and html.index("anna@timberframe.example") < html.index("bob@")
    filtered = admin_client.get("/admin/leadscore_contacts/", {"account": company.pk})
    assert "carl@elsewhere.example" in filtered.content.decode()
    assert "dora@gmail.com" not in filtered.content.decode()


def test_a_free_mail_domain_is_a_form_error(admin_client):
    response = admin_client.post("/admin/leadscore_companies/new/", {
        "name": "Gmail users", "domain": "Gmail.com", "facts": "{}"})
    assert response.status_code == 200
    assert "A free-mail domain names no company." in response.content.decode()
    assert not Company.objects.exists()


def test_a_contact_exports_as_json_with_everything_known(admin_client):
    contact = identify(None, "horacy@example.com", first_name="Horacy", budget="60000")
    page = offer()
    record_event("page_view", contact=contact, page=page, path=page.url)
    response = admin_client.get(f"/admin/leadscore_contacts/export/{contact.pk}/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]  # the admin's
    assert response["Content-Disposition"] == f'attachment; filename="contact-{contact.pk}.json"'
    data = response.json()
    assert data["contact"]["email"] == "horacy@example.com"
    assert data["contact"]["facts"] == {"budget": "60000"}
    assert [event["type"] for event in data["events"]][:2] == ["identify", "page_view"]
    assert data["scores"]["global"] > 0
