"""A sending worker killed in the middle of a batch, then another run: every email arrives
exactly once. PostgreSQL and MariaDB only: the worker is a process of its own, which must see
the test's committed rows (an in-memory SQLite test database is private to this process)."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from wagtail_leadscore.conf import get_setting
from wagtail_leadscore.mail.models import OutboxMessage, Status
from wagtail_leadscore.mail.outbox import enqueue, send_due
from wagtail_leadscore.models import Contact

from .test_mail import make_email

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REPO = Path(__file__).resolve().parent.parent
SEND = "from wagtail_leadscore.mail.outbox import send_due; send_due()"


def worker_environment(port):
    database = connection.settings_dict
    scheme, database_port = {"postgresql": ("postgres", 5432), "mysql": ("mysql", 3306)}[
        connection.vendor]
    return {**os.environ,
            "DJANGO_SETTINGS_MODULE": "leadscore_demo.settings",
            "DATABASE_URL": f"{scheme}://{database['USER']}@{database['HOST']}:"
                            f"{database['PORT'] or database_port}/{database['NAME']}",
            "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "example_site")])}


def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(mail_server):
    if connection.vendor not in ("postgresql", "mysql"):
        pytest.skip("a worker process needs a PostgreSQL or MariaDB test database")
    email = make_email()
    for number in range(10):
        enqueue(Contact.objects.create(email=f"reader{number}@example.com"), email,
                f"test:{number}")
    mail_server.inbox.hold_after(4)  # the 5th message waits at RCPT
    worker = subprocess.Popen(
        [sys.executable, str(REPO / "example_site" / "manage.py"), "shell", "-c", SEND],
        env=worker_environment(mail_server.port))
    try:
        assert mail_server.inbox.holding.wait(60), "the worker never reached the 5th email"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
        mail_server.inbox.release()
    statuses = sorted(OutboxMessage.objects.values_list("status", flat=True))
    assert statuses == [Status.SENDING] * 6 + [Status.SENT] * 4

    assert send_due() == {}  # the dead worker's lease still holds its rows
    lease_over = timezone.now() + timedelta(seconds=get_setting("MAIL_LEASE_SECONDS") + 1)
    mail_server.inbox.hold_after(None)
    assert send_due(now=lease_over) == {"sent": 6}
    received = sorted(message["To"] for message in mail_server.inbox.messages)
    assert received == sorted(f"reader{number}@example.com" for number in range(10))
