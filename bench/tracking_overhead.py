"""How much server-side tracking and the JS beacon cost (a benchmark, not a test).

What it measures, on one demo article page of the example site:

1. the median time to serve the page with wagtail-leadscore absent (not installed, no
   middleware, the tracker tag rendering nothing: ``bench/absent_settings.py``);
2. the median time to serve it with the plugin on (the example site's settings,
   ``bench/tracked_settings.py``), for a returning visitor (cookie kept) and for a first
   visit (no cookie: the visitor is created too);
3. the median time of one beacon POST to /leadscore/beacon/ as tracker.js sends it (a
   custom event; a page_view of a page served from a cache; and the page_view that
   repeats a view the server has just recorded, a duplicate), and the SQL queries of each;

and checks them against the targets of the hot-path principle in DESIGN.md:

- server-side tracking adds at most 10% to the median serve time. The target is judged on
  the returning visitor: every browser's views but its first are of that kind, so it is
  the median page view. A first visit also creates the visitor row (once per browser);
  its ratio is printed as INFO, not judged;
- a beacon costs at most 3 SQL queries (new event, and duplicate).

How: the database (a throwaway SQLite file, or a PostgreSQL database created and dropped
here) is migrated and loaded with the demo content once. Each configuration then runs in
its own long-lived worker process (their settings differ); after a warm-up the workers
take turns, round after round, so that machine noise hits every configuration alike.
Requests go through django.test.Client in-process (no HTTP server), with DEBUG off and a
desktop Chrome User-Agent (bots are never tracked).

Run from the repository root:

    .venv/bin/python bench/tracking_overhead.py            # SQLite
    .venv/bin/python bench/tracking_overhead.py --database-url \\
        postgres://postgres@127.0.0.1:5432/leadscore_bench  # PostgreSQL
    .venv/bin/python bench/tracking_overhead.py --all      # both, one after the other

The PostgreSQL database named in the URL is dropped if it exists, created, and dropped
again at the end. The exit status is 1 if a target is missed.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = REPO_ROOT / "example_site"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/leadscore_bench"

MAX_SERVE_OVERHEAD = 0.10
MAX_BEACON_QUERIES = 3

CHROME_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)

SETTINGS_MODULES = {"absent": "bench.absent_settings", "tracked": "bench.tracked_settings"}
# (worker, scenario, label), in the order printed; Worker describes the scenarios.
MEASUREMENTS = (
    ("absent", "page", "plugin absent"),
    ("tracked", "page", "tracked, returning visitor"),
    ("tracked", "first_visit", "tracked, first visit"),
    ("tracked", "beacon_custom", "beacon, custom event"),
    ("tracked", "beacon_page_view", "beacon, cached page_view"),
    ("tracked", "beacon_duplicate", "beacon, duplicate page_view"),
)
JUDGED_PAGE = "tracked, returning visitor"
REPORTED_PAGE = "tracked, first visit"  # once per browser: shown, not judged
BEACONS = ("beacon, custom event", "beacon, cached page_view", "beacon, duplicate page_view")


# --- The orchestrator: prepares the database, drives the workers, reports. ---------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="run on this PostgreSQL database, not SQLite")
    parser.add_argument("--all", action="store_true", help="run on SQLite, then PostgreSQL")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300, help="per round and scenario")
    parser.add_argument("--warmup", type=int, default=50, help="per scenario, not timed")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return serve_as_worker(args.warmup)

    if args.all:
        database_urls = [None, args.database_url or DEFAULT_POSTGRES_URL]
    else:
        database_urls = [args.database_url]
    results = [run_benchmark(database_url, args) for database_url in database_urls]
    return 0 if all(results) else 1


def run_benchmark(database_url, args):
    """Measure on one database (None: a SQLite file) and report; True if all targets met."""
    with tempfile.TemporaryDirectory(prefix="leadscore-bench-") as tmp:
        env = worker_environment(tmp, database_url)
        database = PostgresDatabase(database_url) if database_url else None
        if database:
            database.create()
        try:
            prepare_database(env)
            samples, queries, page = measure(env, args)
        finally:
            if database:
                database.drop()
        title = f"PostgreSQL ({database_url})" if database else "SQLite (a temporary file)"
        return report(title, page, samples, queries, args)


def worker_environment(tmp, database_url):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(EXAMPLE_SITE)])
    env["LEADSCORE_BENCH_MEDIA_ROOT"] = str(Path(tmp) / "media")
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env["LEADSCORE_SQLITE_PATH"] = str(Path(tmp) / "bench.sqlite3")
    return env


def prepare_database(env):
    env = {**env, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULES["tracked"]}
    for command in (["migrate", "--noinput"], ["load_demo_content"]):
        subprocess.run(
            [sys.executable, str(EXAMPLE_SITE / "manage.py"), *command],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


class PostgresDatabase:
    """The benchmark's own database, created empty and dropped afterwards."""

    def __init__(self, url):
        import psycopg
        from psycopg import sql
        from psycopg.conninfo import conninfo_to_dict

        self.psycopg, self.sql = psycopg, sql
        params = conninfo_to_dict(url)
        self.name = params["dbname"]
        self.server = {**params, "dbname": "postgres"}

    def execute(self, statement):
        with self.psycopg.connect(**self.server, autocommit=True) as connection:
            connection.execute(self.sql.SQL(statement).format(self.sql.Identifier(self.name)))

    def create(self):
        self.drop()
        self.execute("CREATE DATABASE {}")

    def drop(self):
        self.execute("DROP DATABASE IF EXISTS {} WITH (FORCE)")


class WorkerProcess:
    """One configuration's worker: JSON commands on its stdin, JSON answers on its stdout."""

    def __init__(self, name, env, warmup):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", "--warmup", str(warmup)],
            env={**env, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULES[name]},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.page = self.read()["page"]  # sent once warmed up

    def read(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("A benchmark worker died; its error is printed above.")
        return json.loads(line)

    def ask(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def measure(env, args):
    """The request times of every round and the SQL queries, per measurement; the page."""
    workers = {name: WorkerProcess(name, env, args.warmup) for name in SETTINGS_MODULES}
    try:
        page = workers["tracked"].page
        if workers["absent"].page != page:
            raise RuntimeError(f"The workers serve different pages: {workers['absent'].page}")
        samples = {label: [] for _, _, label in MEASUREMENTS}
        for round_number in range(args.rounds):
            # Rotate the order too, so no measurement always runs first or last.
            shift = round_number % len(MEASUREMENTS)
            for worker, scenario, label in MEASUREMENTS[shift:] + MEASUREMENTS[:shift]:
                answer = workers[worker].ask(scenario=scenario, requests=args.requests)
                # One event per request; for duplicates, the page view rendered before each.
                if answer["events"] not in (None, args.requests):
                    raise RuntimeError(
                        f"{label}: {answer['events']} events for {args.requests} requests;"
                        " tracking does not record what the benchmark sends."
                    )
                samples[label].append(answer["times"])
        counts = {name: worker.ask(scenario="queries") for name, worker in workers.items()}
    finally:
        for worker in workers.values():
            worker.close()
    queries = {label: counts[worker][scenario] for worker, scenario, label in MEASUREMENTS}
    return samples, queries, page


def report(title, page, samples, queries, args):
    print(f"\nwagtail-leadscore tracking overhead: {title}")
    print(
        f"page {page}; {args.rounds} rounds x {args.requests} requests per measurement"
        f" after {args.warmup} warm-up; DEBUG off; django.test.Client"
    )
    print(f"{'':28}{'median':>10}  {'round medians':>17}  {'SQL queries':>11}")
    medians = {}
    for label, rounds in samples.items():
        medians[label] = statistics.median(time for times in rounds for time in times)
        round_medians = [statistics.median(times) for times in rounds]
        print(
            f"{label:28}{medians[label]:7.3f} ms  {min(round_medians):6.3f}-"
            f"{max(round_medians):6.3f} ms  {queries[label]:>11}"
        )

    ratio = medians[JUDGED_PAGE] / medians["plugin absent"]
    checks = [(
        ratio <= 1 + MAX_SERVE_OVERHEAD,
        f"{JUDGED_PAGE}: tracked/absent ratio of medians {ratio:.3f}"
        f" ({ratio - 1:+.1%}; target at most +{MAX_SERVE_OVERHEAD:.0%})",
    )]
    first_ratio = medians[REPORTED_PAGE] / medians["plugin absent"]
    print(f"INFO  {REPORTED_PAGE}: tracked/absent ratio of medians {first_ratio:.3f}"
          f" ({first_ratio - 1:+.1%}; once per browser, the visitor row is created too)")
    for label in BEACONS:
        checks.append((
            queries[label] <= MAX_BEACON_QUERIES,
            f"{label}: {queries[label]} SQL queries (target at most {MAX_BEACON_QUERIES})",
        ))
    for passed, text in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {text}")
    passed = all(passed for passed, _ in checks)
    print(f"{'PASS' if passed else 'FAIL'}  overall")
    return passed


# --- The worker: one configuration, in its own process. ----------------------------------


def serve_as_worker(warmup):
    # The answers own stdout; anything else printed goes to stderr.
    answers, sys.stdout = sys.stdout, sys.stderr
    import django

    django.setup()
    worker = Worker()
    for scenario in worker.scenarios:
        worker.run(scenario, warmup)
    print(json.dumps({"page": worker.path}), file=answers, flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["scenario"] == "queries":
            answer = worker.count_queries()
        else:
            answer = worker.run(command["scenario"], command["requests"])
        print(json.dumps(answer), file=answers, flush=True)
    return 0


# The tracker's configuration in a page, as the {% leadscore_tracker %} tag renders it.
TRACKER_CONFIG = re.compile(r'<script id="leadscore-config" type="application/json">(.*?)<')


class Worker:
    """Times the scenarios of one configuration against the demo article page.

    - ``page``: GET the page, the cookie kept between requests (a returning visitor);
    - ``first_visit``: GET the page without a cookie;
    - ``beacon_custom``: a returning visitor's custom event (``leadscore.track("cta")``);
    - ``beacon_page_view``: the page_view tracker.js sends from a page served by a cache:
      its view token names the page but no view recorded by the server, so it is new;
    - ``beacon_duplicate``: the page_view tracker.js sends right after the server recorded
      the view (a fresh page render, not timed, comes first): the event is deduplicated.
      A retried beacon costs the same.
    """

    def __init__(self):
        from django.conf import settings
        from django.test import Client

        from timberframe.models import ArticlePage

        page = ArticlePage.objects.live().order_by("path").first()
        self.path = page.url
        self.client = Client(headers={"user-agent": CHROME_USER_AGENT})
        self.first_visit_client = Client(headers={"user-agent": CHROME_USER_AGENT})
        self.beacons_sent = 0
        self.tracked = "wagtail_leadscore" in settings.INSTALLED_APPS
        if self.tracked:
            from wagtail_leadscore.tracking.pageviews import make_view_token

            self.cached_view_token = make_view_token(page.pk, None)
            self.scenarios = [scenario for name, scenario, _ in MEASUREMENTS if name == "tracked"]
        else:
            self.scenarios = ["page"]

    def run(self, scenario, requests):
        """Time ``requests`` requests of ``scenario``; also count the events recorded."""
        events_before = self.event_count()
        times = []
        for _ in range(requests):
            send = self.prepare(scenario)
            start = time.perf_counter_ns()
            response = send()
            times.append((time.perf_counter_ns() - start) / 1e6)
            expected = 204 if scenario.startswith("beacon") else 200
            if response.status_code != expected:
                raise RuntimeError(f"{scenario}: HTTP {response.status_code}, not {expected}")
        events = None if events_before is None else self.event_count() - events_before
        return {"times": times, "events": events}

    def prepare(self, scenario):
        """Everything one request of ``scenario`` needs but the request itself (not timed)."""
        if scenario == "page":
            return lambda: self.client.get(self.path)
        if scenario == "first_visit":
            self.first_visit_client.cookies.clear()
            return lambda: self.first_visit_client.get(self.path)
        payload = {"id": uuid.uuid4().hex, "name": "", "path": self.path, "query": "",
                   "referrer": "", "properties": {}}
        if scenario == "beacon_custom":
            payload.update(type="custom", name="cta", path="/")
        elif scenario == "beacon_page_view":
            payload.update(type="page_view", view=self.cached_view_token)
        else:
            html = self.client.get(self.path).content.decode()
            config = json.loads(TRACKER_CONFIG.search(html).group(1))
            payload.update(type="page_view", view=config["view"])
        return self.beacon(json.dumps(payload))

    def beacon(self, body):
        # The beacon is rate limited per client address, and real beacons come from many
        # browsers: each beacon here comes from an address of its own.
        self.beacons_sent += 1
        number = self.beacons_sent
        address = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
        return lambda: self.client.post(
            "/leadscore/beacon/", body, content_type="application/json", REMOTE_ADDR=address
        )

    def event_count(self):
        if not self.tracked:
            return None
        from wagtail_leadscore.models import Event

        return Event.objects.count()

    def count_queries(self):
        """The SQL queries of one request of each scenario, in the steady state."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.client.get(self.path)  # refreshes last_seen: no UPDATE in the next minute
        counts = {}
        for scenario in self.scenarios:
            send = self.prepare(scenario)
            with CaptureQueriesContext(connection) as captured:
                send()
            counts[scenario] = len(captured.captured_queries)
        return counts


if __name__ == "__main__":
    sys.exit(main())
