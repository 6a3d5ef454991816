"""Who a browser is: a typed email links a browser to a contact but proves nothing (it is
shown nothing, overwrites nothing); a signed email link proves it. Gates open for the
browser that sent the form even untracked (DNT), and a failing event log loses no lead."""

from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client
from wagtail.models import Page

from wagtail_leadscore.identity import identify, make_identity_token
from wagtail_leadscore.models import (
    Contact,
    DeferredEvent,
    Event,
    ProfileSubmission,
    Visitor,
)
from wagtail_leadscore.tasks import replay_deferred_events

from .conftest import HUMAN_UA
from .lead_capture import ebook, gated_article, question
from .test_progressive_forms import questions_asked, send

pytestmark = pytest.mark.django_db

QUEUE = [question("first_name"), question("company"), question("company_size"),
         question("phone"), question("job_title")]
VICTIM = {"first_name": "Wiktoria", "company": "Acme Timber", "company_size": "50-249",
          "phone": "+48 600 111 222"}


@pytest.fixture
def victim(db):
    return identify(None, "wiktoria@example.com", **VICTIM)


@pytest.fixture
def attacker():
    return Client(HTTP_USER_AGENT=HUMAN_UA)


def test_a_typed_email_shows_nothing_and_overwrites_nothing(victim, attacker, later):
    page = ebook("trust", 2, QUEUE, known_answers="prefill")
    # Asked as if unknown: the victim's answers are not revealed by their absence either.
    assert questions_asked(attacker.get(page.url)) == ["email", "first_name", "company"]
    send(attacker, page, later, email="wiktoria@example.com", first_name="Mallory",
         company="Evil Corp")
    again = attacker.get(page.url)
    html = again.content.decode()
    for value in ("Wiktoria", "Acme Timber", "600 111 222"):
        assert value not in html
    assert "Mallory" in html  # what this browser sent itself
    assert questions_asked(again) == ["first_name", "company", "company_size", "phone"]
    send(attacker, page, later, first_name="Mallory", company="Evil Corp",
         company_size="1-9", phone="+48 999 999 999")
    third = attacker.get(page.url)
    assert "job_title" in questions_asked(third)
    send(attacker, page, later, first_name="Mallory", company="Evil Corp",
         company_size="1-9", phone="+48 999 999 999", job_title="Hacker")

    victim.refresh_from_db()
    assert {key: getattr(victim, key) for key in VICTIM} == VICTIM  # nothing overwritten
    assert victim.job_title == "Hacker"  # what the contact had not said is added
    unconfirmed = [submission.unconfirmed for submission in
                   ProfileSubmission.objects.filter(contact=victim).order_by("submitted_at")]
    assert unconfirmed[0] == {"first_name": "Mallory", "company": "Evil Corp"}
    assert unconfirmed[1]["phone"] == "+48 999 999 999"


def test_sales_see_unconfirmed_answers_and_unverified_events(victim, attacker, later,
                                                            admin_client):
    page = ebook("trust", 2, QUEUE)
    send(attacker, page, later, email="wiktoria@example.com", first_name="Mallory",
         company="Evil Corp")
    careers = Page.objects.get(slug="careers")
    attacker.get(careers.url)
    view = Event.objects.get(type="page_view", path=careers.url)
    assert view.contact == victim  # attributed ...
    html = admin_client.get(f"/admin/leadscore_contacts/inspect/{victim.pk}/").content.decode()
    assert "unverified browser" in html  # ... but marked
    assert "first_name: Mallory" in html and "company: Evil Corp" in html


def test_a_signed_email_link_verifies_the_browser(victim, browser_client, later):
    page = ebook("trust", 2, QUEUE, known_answers="prefill")
    send(browser_client, page, later, email="wiktoria@example.com", first_name="Wiktoria",
         company="Acme Timber")
    assert "600 111 222" not in browser_client.get(page.url).content.decode()
    token = make_identity_token(victim)
    response = browser_client.get(f"{page.url}?ls_id={token}")
    assert response.status_code == 302
    html = browser_client.get(page.url).content.decode()
    assert "600 111 222" in html and "Not wiktoria@example.com?" in html  # prefilled now
    assert Visitor.objects.get(contact=victim).verified
    assert Event.objects.filter(type="identify", properties__verified=True).exists()
    # A verified browser's answers are the person's: they overwrite.
    send(browser_client, page, later, first_name="Wiktoria", company="Acme Timber S.A.",
         company_size="50-249", phone="+48 600 111 222", job_title="CTO")
    victim.refresh_from_db()
    assert victim.company == "Acme Timber S.A."


def test_a_dnt_browser_unlocks_what_it_sent_the_form_for(later):
    dnt = Client(HTTP_USER_AGENT=HUMAN_UA, HTTP_DNT="1")
    guide = gated_article("dnt", "gated")
    assert "Chapter two, the secret." not in dnt.get(guide.url).content.decode()
    response = send(dnt, guide, later, email="dnt@example.com", company="Private Ltd")
    assert response.status_code == 302
    assert "Chapter two, the secret." in dnt.get(guide.url).content.decode()
    assert not Visitor.objects.exists()  # untracked all along
    assert not Event.objects.filter(type="page_view").exists()
    # The unlock is the browser's: another browser, or a forged cookie, is still locked.
    other = Client(HTTP_USER_AGENT=HUMAN_UA, HTTP_DNT="1")
    other.cookies["leadscore_unlocked"] = f"{guide.pk}:forged"
    assert "Chapter two, the secret." not in other.get(guide.url).content.decode()


@contextmanager
def event_log_refusing_writes():
    """The event table refuses every INSERT and UPDATE (a trigger), as a full disk or a
    revoked grant would."""
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE FUNCTION leadscore_refuse() RETURNS trigger AS $$ BEGIN "
                           "RAISE EXCEPTION 'the event log is read-only'; END $$ "
                           "LANGUAGE plpgsql")
            cursor.execute(f"CREATE TRIGGER leadscore_refuse BEFORE INSERT OR UPDATE ON "
                           f"{table} FOR EACH ROW EXECUTE FUNCTION leadscore_refuse()")
        else:
            for action in ("INSERT", "UPDATE"):
                cursor.execute(f"CREATE TRIGGER leadscore_refuse_{action} BEFORE {action} "
                               f"ON {table} BEGIN SELECT RAISE(ABORT, 'read-only'); END")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER leadscore_refuse ON {table}")
                cursor.execute("DROP FUNCTION leadscore_refuse()")
            else:
                for action in ("INSERT", "UPDATE"):
                    cursor.execute(f"DROP TRIGGER leadscore_refuse_{action}")


@pytest.fixture
def refusing_event_log():
    if connection.vendor not in ("sqlite", "postgresql"):
        pytest.skip("DDL in a test transaction: SQLite and PostgreSQL")
    return event_log_refusing_writes


def test_a_failing_event_log_loses_no_lead(browser_client, refusing_event_log, later,
                                           client, api_key):
    from timberframe.models import EbookPage

    page = ebook("outage", 2, QUEUE)
    guide = EbookPage.objects.get(slug="passive-house-guide")  # Wagtail's form builder
    with refusing_event_log():
        response = send(browser_client, page, later, email="lead@example.com",
                        first_name="Lena", company="Lena Homes")
        assert response.status_code == 302
        builder = Client(HTTP_USER_AGENT=HUMAN_UA).post(
            guide.url, {"email": "builder@example.com", "first_name": "Bo"})
        assert builder.status_code == 200
        api = client.post("/leadscore/api/events/", {
            "type": "offline", "name": "Budma 2027", "email": "fair@example.com",
            "id": "crm-1"}, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {api_key}")
        assert api.status_code == 201 and api.json()["results"][0]["deferred"]
    lead = Contact.objects.get(email="lead@example.com")
    assert lead.company == "Lena Homes" and lead.profile_submissions.count() == 1
    assert guide.get_submission_class().objects.filter(page=guide).count() == 1
    assert Contact.objects.get(email="builder@example.com").profile_submissions.exists()
    assert not Event.objects.filter(type="form_submit").exists()
    assert DeferredEvent.objects.filter(type="form_submit").count() == 2
    assert DeferredEvent.objects.filter(type="offline", contact__email="fair@example.com")

    assert replay_deferred_events() >= 2  # the log takes writes again
    assert not DeferredEvent.objects.exists()
    submitted = Event.objects.get(type="form_submit", contact=lead)
    assert submitted.properties["answers"] == {"first_name": "Lena", "company": "Lena Homes"}
    assert Event.objects.filter(type="form_submit",
                                contact__email="builder@example.com").exists()
    assert Event.objects.get(type="offline").dedupe_key == "ext:crm-1"
