"""How long rebuilding every score from the event log takes, and in how much memory (a
benchmark, not a test).

Target (issue 3): the rebuild of 100k contacts / 2M events takes at most 60 s on
PostgreSQL, with bounded memory.

What it does, on a PostgreSQL database of its own (created here, dropped at the end unless
``--keep-db``), with the example site's settings (``bench/tracked_settings.py``):

1. migrate, and load the demo content (``load_demo_content``: pages with their lead-scoring
   tags, the scoring rules, the fit rules, the lead definition), once, into a template
   database that every run copies;
2. generate contacts, their visitors, anonymous visitors and the events, with COPY (psycopg
   3 ``cursor.copy``), in recorded order (ids follow time) over ``--days`` days up to now:
   page views of the demo's pages (tagged and untagged; the page id and path a tracked view
   stores), e-book form submissions, custom events (the financing calculator, capped per
   week, and a CTA no rule scores), downloads, email opens and clicks, offline trade-fair
   business cards. Some people are far more active than others (a Pareto distribution).
   Then ``VACUUM ANALYZE``, as an established database would be;
3. in a fresh process, time ``rebuild_scores()`` on the empty ledger ("first rebuild");
4. in another fresh process, what ``manage.py leadscore_rebuild_scores`` does, with the
   ledger of step 3 in place (the usual case: rules changed, every line is replaced):
   ``rebuild_scores()``, then ``recompute_all_fit()`` and ``qualify_candidates()``, each
   timed.

Where the time goes: the rebuild's phases are timed by wrapping the functions of
``wagtail_leadscore.scoring.rebuild`` in the benchmark's process (the package is not
changed): reading the log (the server-side cursor streaming the events, grouped per
owner), replaying it (``Replay.owner_rows``: matching and ledger lines, in Python; it
includes waiting for COPY, which takes the lines as they are made), writing the ledger
(``_write_batch`` but the replay: COPY of scores and counters into the shadow tables, the
commit) and indexing and swapping the shadow tables in. The process's CPU time shows how
much of the time is Python; the rest is mostly waiting for PostgreSQL. A step that runs longer
than ``--timeout`` (3x the target) is stopped: the report then shows the phase it was in
and the SQL PostgreSQL was running.

Memory: each rebuild runs in a fresh process, so the peak resident set size
(``getrusage`` ``ru_maxrss``) is the rebuild's own; printed with the process's size before
the rebuild (Django set up, modules imported) and the growth. With ``--tracemalloc`` the
peak of Python allocations is traced too (several times slower: the times are not then
the benchmark's). To show that memory is bounded, the same steps run first with
``--compare-events`` events (500k) and the same number of contacts: streamed, the growth
must not follow the number of events (a linear growth would be 4x).

Run from the repository root:

    .venv/bin/python bench/rebuild_scores.py
    .venv/bin/python bench/rebuild_scores.py --contacts 100000 --events 2000000 --keep-db
    .venv/bin/python bench/rebuild_scores.py --reuse-db   # the database kept before: no
                                                            # generation, rebuilds only

The exit status is 1 if a target is missed.
"""

import argparse
import gc
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):  # run as a script: the repository root makes bench importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    CHROME_USER_AGENT,
    POSTGRES_SERVER,
    SETTINGS_MODULES,
    PostgresDatabase,
    prepare_database,
    print_checks,
    worker_environment,
)

DEFAULT_DATABASE_URL = f"{POSTGRES_SERVER}/leadscore_bench_rebuild"
MAX_REBUILD_SECONDS = 60
# Bounded memory: with 4x the events, the rebuild's growth stays under 2x (linear: 4x).
MAX_MEMORY_GROWTH_FACTOR = 2.0
PHASES = (("read", "reading the log"), ("replay", "replaying it (Python)"),
          ("write", "writing the ledger"), ("swap", "indexing and swapping in"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--compare-events", type=int, default=500_000,
                        help="first a run with this many events and as many contacts, to "
                        "compare memory (0: no such run)")
    parser.add_argument("--anonymous-share", type=float, default=0.1,
                        help="the share of events of anonymous visitors (default 0.1)")
    parser.add_argument("--days", type=int, default=120, help="the events' time span")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help=f"a PostgreSQL database to create (default {DEFAULT_DATABASE_URL})")
    parser.add_argument("--keep-db", action="store_true",
                        help="keep the database of the last run (--events) for --reuse-db")
    parser.add_argument("--reuse-db", action="store_true",
                        help="use the database kept by --keep-db as it is: no generation, "
                        "no comparison run")
    parser.add_argument("--timeout", type=float, default=3 * MAX_REBUILD_SECONDS,
                        help="stop a rebuild step after this many seconds (default %(default)s)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="trace the peak of Python allocations too (slow)")
    parser.add_argument("--profile", action="store_true",
                        help="print the cProfile of the first rebuild to stderr (slow)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        return run_step(args)

    runs = [] if args.reuse_db or not args.compare_events else [args.compare_events]
    runs.append(args.events)
    database = PostgresDatabase(args.database_url)
    template = PostgresDatabase(database_url(args.database_url, f"{database.name}_template"))
    results = []
    with tempfile.TemporaryDirectory(prefix="leadscore-bench-") as tmp:
        env = worker_environment(tmp, args.database_url)
        try:
            if not args.reuse_db:
                started = time.monotonic()
                template.create()
                prepare_database({**env, "DATABASE_URL": template.url})
                print(f"template database {template.name}: migrated, demo content loaded in"
                      f" {time.monotonic() - started:.1f} s", file=sys.stderr)
            for number, events in enumerate(runs):
                keep = number == len(runs) - 1 and (args.keep_db or args.reuse_db)
                try:
                    results.append(run(args, env, database, template, events))
                finally:
                    if not keep:
                        database.drop()
        finally:
            if not args.reuse_db:
                template.drop()
    return 0 if report(args, results) else 1


def database_url(url, name):
    """``url`` naming the database ``name`` instead."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


# --- The orchestrator. -------------------------------------------------------------------


def run(args, env, database, template, events):
    """Generate (unless --reuse-db) and rebuild twice, each step in a process of its own."""
    if args.reuse_db:
        generated = step(env, args, "count")
    else:
        database.create(template=template.name)
        generated = step(env, args, "generate", events=events)
    first = step(env, args, "rebuild", database=database)
    command = step(env, args, "command", database=database)
    return {"generated": generated, "first": first, "command": command}


def step(env, args, name, events=None, database=None):
    """Run one step in a fresh process (``--step``), stopped after --timeout if ``database``
    is given. The process prints JSON lines, its latest figures last; a stopped step's
    answer is its latest figures with ``timed_out`` and what PostgreSQL was running."""
    command = [sys.executable, __file__, "--step", name, "--contacts", str(args.contacts),
               "--anonymous-share", str(args.anonymous_share), "--days", str(args.days),
               "--seed", str(args.seed)]
    if events is not None:
        command += ["--events", str(events)]
    if args.tracemalloc:
        command.append("--tracemalloc")
    if args.profile and name == "rebuild":
        command.append("--profile")
    process = subprocess.Popen(
        command, env={**env, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULES["tracked"]},
        stdout=subprocess.PIPE, text=True)
    try:
        output, _ = process.communicate(timeout=args.timeout if database else None)
        timed_out = None
    except subprocess.TimeoutExpired:
        timed_out = []
        for _, seconds, query in database.activity():  # parallel workers repeat a query
            query = re.sub(r"^SELECT .*? FROM", "SELECT ... FROM", " ".join(query.split()))
            if (round(seconds), query) not in timed_out:
                timed_out.append((round(seconds), query))
        process.kill()
        output, _ = process.communicate()
        database.terminate_backends()
    if process.returncode and timed_out is None:
        raise RuntimeError(f"The {name} step failed; its error is printed above.")
    lines = output.strip().splitlines()
    answer = json.loads(lines[-1]) if lines else {}
    if timed_out is not None:
        answer.update(timed_out=True, running=timed_out, limit=args.timeout)
    print(f"{name}: {answer}", file=sys.stderr)
    return answer


def report(args, results):
    main = results[-1]
    print(f"\nwagtail-leadscore score rebuild: PostgreSQL ({args.database_url})")
    width = 34
    columns = [f"{result['generated']['events']:,} events" for result in results]
    print(f"{'':44}" + "".join(f"{column:>{width}}" for column in columns))

    def row(label, values):
        print(f"{label:44}" + "".join(f"{value:>{width}}" for value in values))

    gen = [result["generated"] for result in results]
    row("contacts / their visitors", [f"{g['contacts']:,} / {g['contact_visitors']:,}"
                                      for g in gen])
    row("anonymous visitors", [f"{g['anonymous_visitors']:,}" for g in gen])
    row("events of contacts / of anonymous", [f"{g['contact_events']:,} / "
                                              f"{g['anonymous_events']:,}" for g in gen])
    row("generated (COPY, VACUUM ANALYZE)", [f"{g['seconds']:.1f} s" if "seconds" in g
                                             else "(kept)" for g in gen])
    for key, title in (("first", "rebuild_scores(), empty ledger"),
                       ("command", "leadscore_rebuild_scores, replacing the ledger")):
        print(title)
        runs = [result[key] for result in results]
        row("  rebuild_scores()", [seconds(r, "seconds") for r in runs])
        for phase, label in PHASES:
            row(f"    {label}", [phase_seconds(r, phase) for r in runs])
        row("    of it: this process's CPU", [seconds(r, "cpu_seconds") for r in runs])
        row("  events per second", [f"{r['events'] / r['seconds']:,.0f}" if "seconds" in r
                                    else "-" for r in runs])
        row("  owners (contacts and anonymous visitors)", [
            f"{r['owners']:,}" if "seconds" in r else "-" for r in runs])
        row("  ledger lines / scores / counters", [
            f"{r['lines']:,} / {r['scores']:,} / {r['counters']:,}" if "scores" in r else "-"
            for r in runs])
        if key == "command":
            row("  recompute_all_fit() (every fit changes)",
                [seconds(r, "fit_seconds") for r in runs])
            row("  qualify_candidates()", [
                f"{seconds(r, 'qualify_seconds')} ({r['new_leads']:,} leads)"
                if "new_leads" in r else "-" for r in runs])
            row("  the command in all", [seconds(r, "command_seconds") for r in runs])
        row("  RSS: before -> peak (growth)", [
            f"{r['rss_before']:.0f} -> {r['rss_peak']:.0f} MB (+{r['rss_growth']:.0f})"
            if "rss_growth" in r else "-" for r in runs])
        if args.tracemalloc:
            row("  tracemalloc peak", [f"{r['tracemalloc_peak']:.1f} MB"
                                       if "tracemalloc_peak" in r else "-" for r in runs])
    if "replay_mb" in main["first"]:
        print(f"held for the whole rebuild (Replay: rules, pages, each contact's stage date):"
              f" {main['first']['replay_mb']:.1f} MB for {main['generated']['contacts']:,}"
              " contacts")
    for result in results:
        for key in ("first", "command"):
            answer = result[key]
            if answer.get("timed_out"):
                done = (f" ({answer['events']:,} events replayed and written by then)"
                        if "events" in answer else "")
                print(f"STOPPED  {result['generated']['events']:,} events, {key} step: over"
                      f" {answer['limit']:.0f} s, in {answer.get('phase', '?')}{done};"
                      " PostgreSQL was running:")
                for running_seconds, query in answer["running"]:
                    print(f"    for {running_seconds} s: {query[:400]}")
                if not answer["running"]:
                    print("    nothing (the process was in Python)")

    checks = []
    for key, label in (("first", "rebuild_scores(), empty ledger"),
                       ("command", "leadscore_rebuild_scores (replacing the ledger)")):
        answer = main[key]
        total = "command_seconds" if key == "command" else "seconds"
        passed = total in answer and answer[total] <= MAX_REBUILD_SECONDS
        checks.append((passed, f"{label}: {seconds(answer, total)} for"
                       f" {main['generated']['events']:,} events"
                       f" (target at most {MAX_REBUILD_SECONDS} s)"))
    if "scores" in main["first"] and "scores" in main["command"]:
        same = all(main["first"][name] == main["command"][name]
                   for name in ("lines", "points", "scores", "score_sum", "counters"))
        checks.append((same, "the second rebuild gives the same ledger, scores and counters"
                       " as the first"))
    if len(results) > 1:
        small = results[0]
        for key in ("first", "command"):
            if "rss_growth" not in main[key] or "rss_growth" not in small[key]:
                continue
            growth, small_growth = main[key]["rss_growth"], small[key]["rss_growth"]
            factor = growth / max(small_growth, 1)
            ratio = main["generated"]["events"] / small["generated"]["events"]
            checks.append((
                factor <= MAX_MEMORY_GROWTH_FACTOR,
                f"bounded memory ({key} rebuild): {ratio:.0f}x the events, {factor:.2f}x the"
                f" RSS growth (+{small_growth:.0f} -> +{growth:.0f} MB; target under"
                f" {MAX_MEMORY_GROWTH_FACTOR:.0f}x)",
            ))
    return print_checks(checks)


def phase_seconds(answer, phase):
    """A phase's duration; for a stopped step, as far as it got (its last batch)."""
    phases = answer.get("phases", {})
    if not answer.get("timed_out") or phase not in phases:
        return seconds(phases, phase)
    return f"{phases[phase]:.1f} s (partial)"


def seconds(answer, key):
    """A duration of ``answer``, or how far a stopped step got."""
    if key in answer:
        return f"{answer[key]:.1f} s"
    if answer.get("timed_out") and key in ("seconds", "command_seconds"):
        return f"> {answer['limit']:.0f} s (stopped)"
    return "-"


# --- The steps, in processes of their own (Django set up). -------------------------------


class Answer(dict):
    """A step's figures, printed as a JSON line whenever they grow (the latest is last)."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def tell(self, **figures):
        self.update(figures)
        print(json.dumps(self), file=self.stream, flush=True)


def run_step(args):
    answers, sys.stdout = sys.stdout, sys.stderr  # the answers own stdout
    import django

    django.setup()
    answer = Answer(answers)
    if args.step == "generate":
        answer.tell(**generate(args))
    elif args.step == "count":
        answer.tell(**count_generated())
    else:
        rebuild(args, answer)
    return 0


def megabytes_peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def timed_phases(answer):
    """Wrap the functions of the rebuild module to time its phases into ``answer``."""
    from wagtail_leadscore.scoring import rebuild as module

    phases = {"replay": 0.0, "write_batches": 0.0, "swap": 0.0}
    counts = {"owners": 0, "events": 0, "lines": 0, "batches": 0}
    owner_rows, write_batch = module.Replay.owner_rows, module._write_batch
    build_indexes, swap = module.ShadowTables.build_indexes, module.ShadowTables.swap

    def timed_owner_rows(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return owner_rows(self, *args, **kwargs)
        finally:
            phases["replay"] += time.perf_counter() - started

    def timed_write_batch(replay, column, batch, *args, **kwargs):
        started = time.perf_counter()
        try:
            lines = write_batch(replay, column, batch, *args, **kwargs)
        finally:
            phases["write_batches"] += time.perf_counter() - started
        counts["owners"] += len(batch)
        counts["events"] += sum(len(events) for _, events in batch)
        counts["lines"] += lines
        counts["batches"] += 1
        if counts["batches"] % 10 == 0:  # how far it got, should it be stopped
            answer.tell(phases=split(phases, time.perf_counter() - answer.started), **counts)
        return lines

    def timed_swap_step(step):
        def timed(self):
            started = time.perf_counter()
            try:
                return step(self)
            finally:
                phases["swap"] += time.perf_counter() - started
        return timed

    module.Replay.owner_rows = timed_owner_rows
    module._write_batch = timed_write_batch
    module.ShadowTables.build_indexes = timed_swap_step(build_indexes)
    module.ShadowTables.swap = timed_swap_step(swap)
    return phases


def split(phases, total):
    """The four phases from the measured ones (writing includes the replay it calls)."""
    write = phases["write_batches"] - phases["replay"]
    return {"read": total - phases["write_batches"] - phases["swap"],
            "replay": phases["replay"], "write": write, "swap": phases["swap"]}


def rebuild(args, answer):
    """Time the rebuild (for "command", then the rest of leadscore_rebuild_scores)."""
    import tracemalloc

    from wagtail_leadscore.lifecycle.transitions import qualify_candidates
    from wagtail_leadscore.scoring.fit import recompute_all_fit
    from wagtail_leadscore.scoring.rebuild import Replay, rebuild_scores

    phases = timed_phases(answer)
    gc.collect()
    answer.tell(phase="rebuild_scores", rss_before=megabytes_peak_rss())
    if args.tracemalloc:
        tracemalloc.start()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu = time.process_time()
    answer.started = time.perf_counter()
    owners, events, lines = rebuild_scores()
    elapsed = time.perf_counter() - answer.started
    if profiler:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    figures = {"seconds": elapsed, "cpu_seconds": time.process_time() - cpu,
               "phases": split(phases, elapsed), "owners": owners, "events": events,
               "rss_peak": megabytes_peak_rss()}
    if args.tracemalloc:
        figures["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    figures["rss_growth"] = figures["rss_peak"] - answer["rss_before"]
    totals = ledger_totals()
    if totals["lines"] != lines:
        raise RuntimeError(f"rebuild_scores() says {lines} lines, the ledger has "
                           f"{totals['lines']}.")
    answer.tell(phase="after rebuild_scores", **figures, **totals)
    if args.step == "command":
        started = time.perf_counter()
        answer.tell(phase="recompute_all_fit", fit_changed=recompute_all_fit(),
                    fit_seconds=time.perf_counter() - started)
        started = time.perf_counter()
        answer.tell(phase="qualify_candidates", new_leads=qualify_candidates(),
                    qualify_seconds=time.perf_counter() - started)
        answer.tell(phase="done", command_seconds=answer["seconds"] + answer["fit_seconds"]
                    + answer["qualify_seconds"], rss_peak=megabytes_peak_rss())
    # What a rebuild holds from start to end, whatever the number of events.
    tracemalloc.start()
    replay = Replay()
    answer.tell(phase="done", replay_mb=tracemalloc.get_traced_memory()[0] / 2**20)
    tracemalloc.stop()
    del replay


def ledger_totals():
    from django.db import connection

    from wagtail_leadscore.models import Score, ScoreCounter, ScoreEntry

    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), coalesce(sum(points), 0) FROM "
                       f"{quote(ScoreEntry._meta.db_table)}")
        lines, points = cursor.fetchone()
        cursor.execute(f"SELECT count(*), coalesce(sum(value), 0) FROM "
                       f"{quote(Score._meta.db_table)}")
        scores, score_sum = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM {quote(ScoreCounter._meta.db_table)}")
        (counters,) = cursor.fetchone()
    return {"lines": lines, "points": points, "scores": scores, "score_sum": score_sum,
            "counters": counters}


# --- Generating the data. ----------------------------------------------------------------

# Page views by page type: how much of the traffic each type gets, shared by its pages.
PAGE_TRAFFIC = {
    "HomePage": 15, "ArticlePage": 30, "OfferPage": 15, "PricingPage": 8, "CaseStudyPage": 7,
    "OfferIndexPage": 4, "BlogIndexPage": 4, "CaseStudyIndexPage": 2, "EbookIndexPage": 2,
    "EventIndexPage": 1, "EbookPage": 6, "EventPage": 3, "CareersPage": 3,
}
# Event kinds per 1000 events of a contact / of an anonymous visitor; the rest are views.
CONTACT_KINDS = {"form": 20, "calculator": 15, "cta": 15, "download": 15, "offline": 5,
                 "email_open": 20, "email_click": 10}
ANONYMOUS_KINDS = {"calculator": 15, "cta": 20, "download": 15}
UTM_QUERY = "utm_source=newsletter&utm_medium=email&utm_campaign=spring"
UTM_PROPERTIES = json.dumps({"utm_source": "newsletter", "utm_medium": "email",
                             "utm_campaign": "spring"})


def generate(args):
    """Contacts, visitors and events by COPY, in one transaction; then VACUUM ANALYZE."""
    from django.db import connection, transaction

    started = time.monotonic()
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=args.days)
    pages = demo_pages()
    contacts = args.contacts
    anonymous = contacts // 2
    # Each contact has a visitor (a fifth have two browsers); the anonymous visitors none.
    contact_visitors = [[new_uuid(rng)] for _ in range(contacts)]
    for visitors in rng.sample(contact_visitors, contacts // 5):
        visitors.append(new_uuid(rng))
    anonymous_visitors = [new_uuid(rng) for _ in range(anonymous)]

    # Owners 0..contacts-1 are contacts, the next ones anonymous visitors.
    contact_weights = [rng.paretovariate(2.0) for _ in range(contacts)]
    anonymous_weights = [rng.paretovariate(2.0) for _ in range(anonymous)]
    scale = (args.anonymous_share / (1 - args.anonymous_share)
             * sum(contact_weights) / sum(anonymous_weights))
    cumulative, total = [], 0.0
    for weight in contact_weights + [weight * scale for weight in anonymous_weights]:
        total += weight
        cumulative.append(total)
    owners = rng.choices(range(contacts + anonymous), cum_weights=cumulative, k=args.events)
    moments = sorted(rng.random() for _ in range(args.events))
    span = (now - start).total_seconds()

    page_choices = [page for page in pages if page["model"] in PAGE_TRAFFIC]
    page_weights = [PAGE_TRAFFIC[page["model"]] / sum(p["model"] == page["model"]
                                                      for p in page_choices)
                    for page in page_choices]
    ebooks = [page for page in pages if page["model"] == "EbookPage"]

    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        skip_foreign_key_checks(raw)
        first_contact_id = copy_contacts(raw, contacts, start, rng)
        copy_visitors(raw, first_contact_id, contact_visitors, anonymous_visitors, start, now)
        counts = copy_events(raw, owners, moments, start, span, first_contact_id, contacts,
                             contact_visitors, anonymous_visitors, page_choices, page_weights,
                             ebooks, rng)
    connection.connection.autocommit = True  # VACUUM runs outside a transaction
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"contacts": contacts, "contact_visitors": sum(map(len, contact_visitors)),
            "anonymous_visitors": anonymous, "events": args.events, **counts,
            "seconds": time.monotonic() - started}


def skip_foreign_key_checks(cursor):
    """For this transaction, if the user may (a superuser): the rows are consistent by
    construction, and checking millions of references would double the generation time."""
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if cursor.fetchone()[0]:
        cursor.execute("SET LOCAL session_replication_role = replica")


def count_generated():
    """The figures of a kept database (--reuse-db)."""
    from wagtail_leadscore.models import Contact, Event, Visitor

    contact_events = Event.objects.filter(contact__isnull=False).count()
    events = Event.objects.count()
    return {"contacts": Contact.objects.count(),
            "contact_visitors": Visitor.objects.filter(contact__isnull=False).count(),
            "anonymous_visitors": Visitor.objects.filter(contact__isnull=True).count(),
            "events": events, "contact_events": contact_events,
            "anonymous_events": events - contact_events}


def demo_pages():
    from wagtail.models import Page

    return [{"id": page.pk, "url": page.url, "model": type(page).__name__, "slug": page.slug,
             "title": page.title}
            for page in Page.objects.live().filter(depth__gt=1).specific()]


def new_uuid(rng):
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def copy_contacts(cursor, contacts, start, rng):
    """The contacts, with consecutive ids (a fresh identity sequence): returns the first."""
    columns = ("email", "first_name", "last_name", "company", "company_size", "job_title",
               "phone", "industry", "country", "facts", "stage", "stage_changed_at",
               "fit_score", "fit_grade", "created_at", "updated_at")
    sizes = ["1-9", "10-49", "50-249", "250+"]
    titles = ["Owner", "Sales director", "Architect", "Project manager", ""]
    industries = ["construction", "real estate development", "software", "", ""]
    with cursor.copy(f"COPY wagtail_leadscore_contact ({', '.join(columns)}) FROM STDIN") as copy:
        for number in range(contacts):
            created = start - timedelta(days=rng.random() * 200)
            has_company = rng.random() < 0.6
            facts = json.dumps({"budget": rng.choice([200_000, 500_000, 900_000])}
                               if rng.random() < 0.3 else {})
            copy.write_row((
                f"contact{number}@bench.example", f"First{number}", f"Last{number}",
                f"Company {number % 20_000}" if has_company else "",
                rng.choice(sizes) if has_company else "", rng.choice(titles), "",
                rng.choice(industries), "Poland" if rng.random() < 0.8 else "Germany",
                facts, "prospect", created, 0, "D", created, created,
            ))
    cursor.execute("SELECT min(id), max(id), count(*) FROM wagtail_leadscore_contact")
    first, last, count = cursor.fetchone()
    if count != contacts or last - first + 1 != contacts:
        raise RuntimeError("The contacts' ids are not consecutive: not a fresh database?")
    return first


def copy_visitors(cursor, first_id, contact_visitors, anonymous_visitors, start, now):
    columns = ("id", "contact_id", "first_seen", "last_seen", "user_agent", "device",
               "browser", "os", "is_bot")
    with cursor.copy(f"COPY wagtail_leadscore_visitor ({', '.join(columns)}) FROM STDIN") as copy:
        for number, visitors in enumerate(contact_visitors):
            for visitor in visitors:
                copy.write_row((visitor, first_id + number, start, now, CHROME_USER_AGENT,
                                "desktop", "Chrome", "Windows", False))
        for visitor in anonymous_visitors:
            copy.write_row((visitor, None, start, now, CHROME_USER_AGENT, "desktop",
                            "Chrome", "Windows", False))


def copy_events(cursor, owners, moments, start, span, first_contact_id, contacts,
                contact_visitors, anonymous_visitors, pages, page_weights, ebooks, rng):
    columns = ("type", "name", "visitor_id", "contact_id", "page_id", "path", "query",
               "referrer", "properties", "occurred_at")
    page_views = rng.choices(pages, weights=page_weights, k=len(owners))
    kinds = {True: kind_table(CONTACT_KINDS), False: kind_table(ANONYMOUS_KINDS)}
    form_properties = {page["id"]: json.dumps({"form": page["slug"], "answers": {
        "company": "A company", "company_size": "10-49"}}) for page in ebooks}
    counts = {"contact_events": 0, "anonymous_events": 0}
    with cursor.copy(f"COPY wagtail_leadscore_event ({', '.join(columns)}) FROM STDIN") as copy:
        for owner, moment, page in zip(owners, moments, page_views, strict=True):
            occurred_at = start + timedelta(seconds=moment * span)
            is_contact = owner < contacts
            if is_contact:
                counts["contact_events"] += 1
                visitors = contact_visitors[owner]
                visitor = visitors[0] if len(visitors) == 1 else rng.choice(visitors)
                contact = first_contact_id + owner
            else:
                counts["anonymous_events"] += 1
                visitor, contact = anonymous_visitors[owner - contacts], None
            kind = kinds[is_contact][rng.randrange(1000)]
            if kind == "view":
                utm = rng.random() < 0.05
                row = ("page_view", "", visitor, contact, page["id"], page["url"],
                       UTM_QUERY if utm else "", "https://www.google.com/" if
                       rng.random() < 0.2 else "", UTM_PROPERTIES if utm else "{}")
            elif kind == "form":
                ebook = rng.choice(ebooks)
                row = ("form_submit", ebook["title"], visitor, contact, ebook["id"], "", "",
                       "", form_properties[ebook["id"]])
            elif kind in ("calculator", "cta"):
                name = "calculator_used" if kind == "calculator" else "cta"
                row = ("custom", name, visitor, contact, None, page["url"], "", "", "{}")
            elif kind == "download":
                row = ("download", "Passive house guide (PDF)", visitor, contact, None,
                       "/documents/1/passive-house-guide.pdf", "", "",
                       '{"document": "passive-house-guide.pdf"}')
            elif kind == "offline":
                row = ("offline", "trade fair business card", None, contact, None, "", "", "",
                       '{"fair": "Budma"}')
            else:  # email_open, email_click
                row = (kind, "Spring newsletter", None, contact, None, "", "", "",
                       '{"email": "spring-newsletter"}')
            copy.write_row((*row, occurred_at))
    return counts


def kind_table(kinds):
    """1000 entries: each kind as often as its count per 1000, "view" for the rest."""
    table = [kind for kind, count in kinds.items() for _ in range(count)]
    return table + ["view"] * (1000 - len(table))


if __name__ == "__main__":
    sys.exit(main())
