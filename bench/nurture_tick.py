"""One scheduler tick over many due enrolments (a benchmark, not a test): N contacts in a
sequence whose next step is a branch (clicked the previous email: one email; not: another),
half of them clicked. ``tick()`` is timed: it reads each batch's exits and reactions at
once, queues N outbox rows in the contacts' sending window and advances every enrolment.
Target (issue 6): 10k enrolments in at most 60 s.

    .venv/bin/python bench/nurture_tick.py                     # SQLite, 10000 enrolments
    .venv/bin/python bench/nurture_tick.py --database-url \\
        postgres://postgres@127.0.0.1:5432/leadscore_bench_nurture

The exit status is 1 if the target is missed or the tick did not do what it should.
"""

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root makes bench importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import demo_database, print_checks, run_worker  # noqa: E402

MAX_SECONDS = 60.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enrolments", type=int, default=10_000)
    parser.add_argument("--database-url", help="run on this PostgreSQL database, not SQLite")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.enrolments)
    with demo_database(args.database_url) as env:
        result = run_worker(__file__, env, "--enrolments", str(args.enrolments))
    print(f"\nwagtail-leadscore nurture tick: {'PostgreSQL' if args.database_url else 'SQLite'}")
    print(f"{args.enrolments} due enrolments: one tick in {result['seconds']:.2f} s"
          f" ({result['outcomes']}); outbox rows: {result['queued']}"
          f" ({result['branch']})")
    half = args.enrolments // 2
    passed = print_checks([
        (result["seconds"] <= MAX_SECONDS,
         f"tick: {result['seconds']:.2f} s (target at most {MAX_SECONDS:.0f} s)"),
        (result["queued"] == args.enrolments
         and result["branch"] == {"clicked": half, "silent": args.enrolments - half},
         "every enrolment queued the email of its branch"),
    ])
    return 0 if passed else 1


def worker(count):
    answers, sys.stdout = sys.stdout, sys.stderr
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from wagtail_leadscore.mail.models import Email, OutboxMessage, Status
    from wagtail_leadscore.models import Contact, Event
    from wagtail_leadscore.nurture.models import Enrolment, Sequence, SequenceStep
    from wagtail_leadscore.nurture.scheduler import tick

    def email(slug):
        return Email.objects.create(name=slug, slug=slug, subject=slug, body=json.dumps(
            [{"type": "paragraph", "value": "<p>Hello {{ first_name | there }}</p>"}]))

    now = timezone.now()
    sequence = Sequence.objects.create(name="Bench", frequency_cap_days=0, weekdays_only=False,
                                       send_from_hour=0, send_until_hour=24)
    first = SequenceStep.objects.create(sequence=sequence, sort_order=0, delay_days=1,
                                        email=email("first"))
    for order, (slug, condition) in enumerate((("clicked", "clicked"),
                                               ("silent", "not_clicked")), start=1):
        SequenceStep.objects.create(sequence=sequence, sort_order=order, delay_days=7,
                                    email=email(slug), condition=condition)
    contacts = Contact.objects.bulk_create(
        [Contact(email=f"nurtured{number}@example.com") for number in range(count)])
    sent = OutboxMessage.objects.bulk_create(
        [OutboxMessage(key=f"bench:{contact.pk}", email=first.email, contact=contact,
                       status=Status.SENT, sent_at=now - timedelta(days=6))
         for contact in contacts])
    Event.objects.bulk_create(
        [Event(type="email_click", contact_id=message.contact_id, name="first",
               properties={"message": message.pk}, occurred_at=now - timedelta(days=5))
         for message in sent[:count // 2]])
    Enrolment.objects.bulk_create(
        [Enrolment(sequence=sequence, contact_id=message.contact_id, next_step=1,
                   enrolled_at=now - timedelta(days=8), last_message=message,
                   last_sent_at=now - timedelta(days=6), next_run_at=now - timedelta(hours=1))
         for message in sent])
    started = time.perf_counter()
    outcomes = tick(now)
    seconds = time.perf_counter() - started
    queued = OutboxMessage.objects.filter(status=Status.QUEUED)
    branch = {slug: queued.filter(email__slug=slug).count() for slug in ("clicked", "silent")}
    print(json.dumps({"seconds": seconds, "outcomes": outcomes, "queued": queued.count(),
                      "branch": branch}), file=answers, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
