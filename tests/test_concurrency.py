"""identify() under real concurrency: threads with their own PostgreSQL connections.

SQLite serialises every write (and an in-memory test database is one connection), so
these run on PostgreSQL only; .ci/run runs the suite there too.
"""

import threading

import pytest
from django.db import connection, connections

from wagtail_leadscore import identify
from wagtail_leadscore.models import Contact, Event

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
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections: runs with DATABASE_URL=postgres://...")


def test_concurrent_identifies_of_a_new_email_make_one_contact(postgresql_only):
    run_together([lambda: identify(None, "Horacy@example.com")] * 8)
    assert Contact.objects.filter(email="horacy@example.com").count() == 1
    assert Event.objects.filter(type="identify").count() == 1  # created once


def test_concurrent_identifies_keep_each_others_facts(postgresql_only):
    identify(None, "cto@example.com")
    facts = [{f"answer_{i}": str(i)} for i in range(8)]
    run_together([lambda f=f: identify(None, "cto@example.com", **f) for f in facts])
    stored = Contact.objects.get(email="cto@example.com").facts
    assert stored == {key: value for f in facts for key, value in f.items()}
