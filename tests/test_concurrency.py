"""identify() under real concurrency: threads with their own database connections.

SQLite serialises every write (and an in-memory test database is one connection), so
these run on PostgreSQL and MariaDB only; .ci/run runs the suite there too.
"""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from wagtail_leadscore import identify
from wagtail_leadscore.models import Contact, Event
from wagtail_leadscore.scoring.shadow import LOCK_NAME

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run_together(calls):
    """Run the callables at the same moment, each in its own thread and connection."""
    start = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            start.wait()
            call()
        except Exception as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


@pytest.fixture
def concurrent_connections():
    if connection.vendor not in ("postgresql", "mysql"):
        pytest.skip("needs concurrent connections: runs with DATABASE_URL=postgres://... "
                    "or mysql://...")


@pytest.fixture
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's advisory lock")


def test_concurrent_identifies_of_a_new_email_make_one_contact(concurrent_connections):
    run_together([lambda: identify(None, "Horacy@example.com")] * 8)
    assert Contact.objects.filter(email="horacy@example.com").count() == 1
    assert Event.objects.filter(type="identify").count() == 1  # created once


def test_concurrent_identifies_keep_each_others_facts(concurrent_connections):
    identify(None, "cto@example.com")
    facts = [{f"answer_{i}": str(i)} for i in range(8)]
    run_together([lambda f=f: identify(None, "cto@example.com", **f) for f in facts])
    stored = Contact.objects.get(email="cto@example.com").facts
    assert stored == {key: value for f in facts for key, value in f.items()}


def test_parallel_views_of_one_contact_give_the_exact_score(concurrent_connections,
                                                            browser_client):
    """20 threads x 50 tracked views of one contact: every point counted once, the 5th-view
    bonus exactly once, no lost update."""
    from django.test import Client

    from timberframe.models import OfferPage
    from wagtail_leadscore.models import Score, ScoreCounter, ScoreEntry

    offer = OfferPage.objects.get(slug="passive-house-kasia-120")
    browser_client.get(offer.url)
    contact = identify_through_the_browser(browser_client)
    before = Score.objects.get(contact=contact, dimension="global").value
    cookies = browser_client.cookies

    def fifty_views():
        client = Client(HTTP_USER_AGENT=browser_client.defaults["HTTP_USER_AGENT"])
        client.cookies = cookies
        for _ in range(50):
            assert client.get(offer.url).status_code == 200

    run_together([fifty_views] * 20)
    after = Score.objects.get(contact=contact, dimension="global").value
    assert after - before == 1000 * 10 + 50
    assert ScoreEntry.objects.filter(contact=contact, page=offer, dimension="global",
                                     points=50).count() == 1
    assert ScoreCounter.objects.get(contact=contact, key=f"n:page:{offer.pk}").count == 1001
    assert Event.objects.filter(contact=contact, type="page_view", page=offer).count() == 1001


def test_one_email_sent_from_eight_devices_at_once_is_one_contact(concurrent_connections):
    """The same address in a form on eight devices at the same moment, while each device
    also reads pages: one contact, every device linked to it, every view and form
    recorded, no IntegrityError."""
    from django.test import Client

    from timberframe.models import EbookPage, OfferPage

    from .conftest import HUMAN_UA

    ebook = EbookPage.objects.get(slug="smart-home-costs-ebook")
    offer = OfferPage.objects.get(slug="passive-house-kasia-120")
    devices = [Client(HTTP_USER_AGENT=HUMAN_UA) for _ in range(8)]
    for device in devices:
        assert device.get(offer.url).status_code == 200  # a visitor cookie each

    def send_and_read(device):
        response = device.post(ebook.url, {"email": "Twins@Example.com", "company": "Twins",
                                           "company_size": "10-49"})
        assert response.status_code in (200, 302), response.status_code
        assert device.get(offer.url).status_code == 200

    run_together([lambda device=device: send_and_read(device) for device in devices])
    contact = Contact.objects.get(email="twins@example.com")
    assert contact.visitors.count() == 8
    assert Event.objects.filter(contact=contact, type="form_submit").count() == 8
    assert Event.objects.filter(contact=contact, type="page_view", page=offer).count() == 16


def identify_through_the_browser(client):
    from timberframe.models import EbookPage

    ebook = EbookPage.objects.get(slug="smart-home-costs-ebook")
    client.post(ebook.url, {"email": "buyer@example.com", "company": "Buyer",
                            "company_size": "10-49"})
    return Contact.objects.get(email="buyer@example.com")


def test_a_second_rebuild_at_the_same_time_is_refused(postgresql_only):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:  # a rebuild running in another process holds this
            cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [LOCK_NAME])
        with pytest.raises(CommandError, match="Another score rebuild is running"):
            call_command("leadscore_rebuild_scores", verbosity=0)
    finally:
        other.close()
    call_command("leadscore_rebuild_scores", verbosity=0)  # the lock is free again
