"""How fast the outbox sends (a benchmark, not a test): N marketing emails, each rendered
for its contact (merge fields, rewritten links, pixel, text part, unsubscribe headers),
sent by ``send_due()`` in batches over one SMTP connection each to a real SMTP server on
loopback (aiosmtpd, in a process of its own), every row marked sent and an ``email_sent``
event recorded. Target (issue 6): at least 100 emails per second.

    .venv/bin/python bench/mail_throughput.py                # SQLite, 2000 emails
    .venv/bin/python bench/mail_throughput.py --emails 5000 --database-url \\
        postgres://postgres@127.0.0.1:5432/leadscore_bench_mail

The exit status is 1 if the target is missed or the server did not receive every email.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root makes bench importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import demo_database, print_checks, run_worker  # noqa: E402

MIN_EMAILS_PER_SECOND = 100


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--database-url", help="run on this PostgreSQL database, not SQLite")
    parser.add_argument("--smtp-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smtp_server:
        return smtp_server(args.smtp_server)
    if args.worker:
        return worker(args.emails)
    with demo_database(args.database_url) as env:
        port = free_port()
        server = subprocess.Popen([sys.executable, __file__, "--smtp-server", str(port)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            server.stdout.readline()  # "ready"
            result = run_worker(__file__, env, "--emails", str(args.emails),
                                EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port))
            server.stdin.write("count\n")
            server.stdin.flush()
            received = int(server.stdout.readline())
        finally:
            server.kill()
    rate = result["sent"] / result["seconds"]
    print(f"\nwagtail-leadscore outbox: {'PostgreSQL' if args.database_url else 'SQLite'}")
    print(f"{result['sent']} emails sent in {result['seconds']:.2f} s: {rate:.0f} emails/s"
          f" ({result['outcomes']}); the SMTP server received {received}")
    passed = print_checks([
        (rate >= MIN_EMAILS_PER_SECOND,
         f"{rate:.0f} emails/s (target at least {MIN_EMAILS_PER_SECOND})"),
        (received == result["sent"] == args.emails,
         f"every email arrived once: {received} received of {args.emails}"),
    ])
    return 0 if passed else 1


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp_server(port):
    """A counting SMTP server: answers "ready", then the count for each line read."""
    from aiosmtpd.controller import Controller

    class Counter:
        received = 0

        async def handle_DATA(self, server, session, envelope):
            Counter.received += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    for _ in sys.stdin:
        print(Counter.received, flush=True)
    controller.stop()
    return 0


def worker(count):
    answers, sys.stdout = sys.stdout, sys.stderr
    import django

    django.setup()
    from wagtail_leadscore.mail.models import Email, OutboxMessage
    from wagtail_leadscore.mail.outbox import send_due
    from wagtail_leadscore.models import Contact

    email = Email.objects.create(
        name="Bench news", subject="News for {{ company | you }}", preheader="Spring offers",
        body=json.dumps([
            {"type": "heading", "value": "Hello {{ first_name | there }}"},
            {"type": "paragraph", "value": '<p>See <a href="/offer/">our offers</a>, <a href='
             '"/case-studies/">case studies</a> and <a href="https://example.org/">a guide</a>'
             '.</p>'},
            {"type": "button", "value": {"text": "Prices", "url": "/pricing/"}}]))
    contacts = Contact.objects.bulk_create(
        [Contact(email=f"reader{number}@example.com", first_name=f"Reader {number}",
                 company="Bench Builders") for number in range(count)])
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(key=f"bench:{contact.pk}", email=email, contact=contact)
         for contact in contacts])
    started = time.perf_counter()
    outcomes = send_due()
    seconds = time.perf_counter() - started
    sent = OutboxMessage.objects.filter(status="sent").count()
    print(json.dumps({"sent": sent, "seconds": seconds, "outcomes": outcomes}), file=answers,
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
