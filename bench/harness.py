"""The machinery the serve-time benchmarks share (``tracking_overhead``, ``scoring_overhead``).

- The orchestrator (the script the user runs) makes a throwaway database (a SQLite file, or
  a PostgreSQL database created and dropped here), migrates it and loads the demo content
  once (:func:`run_on_databases`).
- Each configuration (``absent``: the site without the plugin's behaviour; ``tracked``: the
  example site's own settings) runs in its own long-lived worker process, because their
  settings differ (:class:`WorkerProcess`). A worker is the benchmark script itself, run
  with ``--worker``; it serves its scenarios with ``django.test.Client``
  (:func:`serve_as_worker`, :class:`PageWorker`).
- After a warm-up the workers take turns, round after round, in an order rotated from round
  to round, so that machine noise hits every measurement alike (:func:`measure`).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from django.test.client import Client, ClientHandler

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = REPO_ROOT / "example_site"
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"

CHROME_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)

SETTINGS_MODULES = {"absent": "bench.absent_settings", "tracked": "bench.tracked_settings"}


# --- The orchestrator. -------------------------------------------------------------------


def add_arguments(parser, rounds=100, requests=15, warmup=50):
    parser.add_argument("--database-url", help="run on this PostgreSQL database, not SQLite")
    parser.add_argument("--all", action="store_true", help="run on SQLite, then PostgreSQL")
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--requests", type=int, default=requests,
                        help="per round and measurement")
    parser.add_argument("--warmup", type=int, default=warmup, help="per scenario, not timed")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)


def run_on_databases(args, default_postgres_url, run):
    """``run(env, title)`` on each database the arguments name (a fresh, migrated database
    with the demo content); returns the exit status: 0 if every run returned True."""
    if args.all:
        database_urls = [None, args.database_url or default_postgres_url]
    else:
        database_urls = [args.database_url]
    results = []
    for database_url in database_urls:
        with demo_database(database_url) as env:
            title = (f"PostgreSQL ({database_url})" if database_url
                     else "SQLite (a temporary file)")
            results.append(run(env, title))
    return 0 if all(results) else 1


@contextmanager
def demo_database(database_url=None):
    """A throwaway database with the demo content, migrated: a SQLite file in a temporary
    directory, or the PostgreSQL database named (created, then dropped). Yields the
    environment of the workers that use it."""
    with tempfile.TemporaryDirectory(prefix="leadscore-bench-") as tmp:
        env = worker_environment(tmp, database_url)
        database = PostgresDatabase(database_url) if database_url else None
        if database:
            database.create()
        try:
            prepare_database(env)
            yield env
        finally:
            if database:
                database.drop()


def run_worker(script, env, *arguments, **extra_env):
    """``script --worker *arguments`` in a process of its own, with the example site's
    settings; returns the JSON of the last line it printed."""
    answer = subprocess.run(
        [sys.executable, str(script), "--worker", *arguments],
        env={**env, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULES["tracked"], **extra_env},
        check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(answer.stdout.strip().splitlines()[-1])


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
    """Migrate and load the demo content, with the example site's own settings."""
    env = {**env, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULES["tracked"]}
    for command in (["migrate", "--noinput"], ["load_demo_content"]):
        subprocess.run(
            [sys.executable, str(EXAMPLE_SITE / "manage.py"), *command],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


class PostgresDatabase:
    """A benchmark's own database, created empty (or as a copy of a template) and dropped
    afterwards."""

    def __init__(self, url):
        import psycopg
        from psycopg import sql
        from psycopg.conninfo import conninfo_to_dict

        self.psycopg, self.sql = psycopg, sql
        self.url = url
        params = conninfo_to_dict(url)
        self.name = params["dbname"]
        self.server = {**params, "dbname": "postgres"}

    def execute(self, statement, *names):
        """Run ``statement`` on the server; ``{}`` placeholders are this database's name,
        then ``names``, as identifiers."""
        identifiers = [self.sql.Identifier(name) for name in (self.name, *names)]
        with self.psycopg.connect(**self.server, autocommit=True) as connection:
            connection.execute(self.sql.SQL(statement).format(*identifiers))

    def create(self, template=None):
        """Create the database empty, or as a copy of the database named ``template``."""
        self.drop()
        if template:
            self.execute("CREATE DATABASE {} TEMPLATE {}", template)
        else:
            self.execute("CREATE DATABASE {}")

    def drop(self):
        self.execute("DROP DATABASE IF EXISTS {} WITH (FORCE)")

    def activity(self):
        """(pid, seconds running, query) of the active queries on this database."""
        with self.psycopg.connect(**self.server, autocommit=True) as connection:
            return connection.execute(
                "SELECT pid, extract(epoch FROM now() - query_start)::float, query"
                " FROM pg_stat_activity WHERE datname = %s AND state = 'active'"
                " AND pid <> pg_backend_pid() ORDER BY query_start", [self.name]).fetchall()

    def terminate_backends(self):
        """End the server processes of connections to this database (a benchmark's own)."""
        with self.psycopg.connect(**self.server, autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()", [self.name])


class WorkerProcess:
    """One configuration's worker (``script --worker``): JSON commands on its stdin, JSON
    answers on its stdout."""

    def __init__(self, script, name, env, warmup):
        self.process = subprocess.Popen(
            [sys.executable, str(script), "--worker", "--warmup", str(warmup)],
            env={**env, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULES[name]},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.info = self.read()  # sent once warmed up

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


def measure(script, env, args, measurements):
    """Run ``measurements`` ((worker, scenario, label), ...) round after round.

    Returns the serve times of every round per label, the busy times likewise (see
    :class:`ServeTimingHandler`), the SQL query counts per label (as the worker's
    ``count_queries`` gives them) and the workers' ``info``."""
    names = sorted({worker for worker, _, _ in measurements})
    workers = {name: WorkerProcess(script, name, env, args.warmup) for name in names}
    try:
        samples = {label: [] for _, _, label in measurements}
        busy = {label: [] for _, _, label in measurements}
        for round_number in range(args.rounds):
            # Rotate the order too, so no measurement always runs first or last.
            shift = round_number % len(measurements)
            for worker, scenario, label in measurements[shift:] + measurements[:shift]:
                answer = workers[worker].ask(scenario=scenario, requests=args.requests)
                samples[label].append(answer["times"])
                busy[label].append(answer["busy"])
        counts = {name: worker.ask(scenario="queries") for name, worker in workers.items()}
    finally:
        for worker in workers.values():
            worker.close()
    queries = {label: counts[worker][scenario] for worker, scenario, label in measurements}
    return samples, busy, queries, {name: worker.info for name, worker in workers.items()}


def medians(samples):
    """{label: (median of all times, first and third quartile of the round medians)}."""
    result = {}
    for label, rounds in samples.items():
        round_medians = [statistics.median(times) for times in rounds]
        low, _, high = statistics.quantiles(round_medians, n=4) if len(rounds) > 1 else (
            round_medians * 3)
        result[label] = (statistics.median(time for times in rounds for time in times),
                         low, high)
    return result


def paired_ratio(samples, label, baseline):
    """The median, over the rounds, of the ratio of ``label``'s round median to
    ``baseline``'s: each ratio compares requests served within a second or two of each
    other, so a slow spell of the machine (a virtual machine's CPU can halve its speed for
    seconds at a time) divides out instead of landing on one side."""
    return statistics.median(
        statistics.median(times) / statistics.median(base)
        for times, base in zip(samples[label], samples[baseline], strict=True))


def busy_ratio_line(busy, label, baseline):
    """The INFO line of ``label``'s busy time against ``baseline``'s (paired)."""
    ratio = paired_ratio(busy, label, baseline)
    return (f"INFO  {label}: busy time (the response served and closed, the writes after"
            f" the response included) {ratio:.3f} of {baseline} ({ratio - 1:+.1%})")


def print_checks(checks):
    """Print (passed, text) lines and an overall line; True if all passed."""
    for passed, text in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {text}")
    passed = all(passed for passed, _ in checks)
    print(f"{'PASS' if passed else 'FAIL'}  overall")
    return passed


# --- The worker. -------------------------------------------------------------------------


def serve_as_worker(worker_class, warmup):
    """The worker's main loop: set Django up, warm every scenario up, then answer."""
    # The answers own stdout; anything else printed goes to stderr.
    answers, sys.stdout = sys.stdout, sys.stderr
    import django

    django.setup()
    worker = worker_class()
    for scenario in worker.scenarios:
        worker.run(scenario, warmup)
    print(json.dumps(worker.info()), file=answers, flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["scenario"] == "queries":
            answer = worker.count_queries()
        else:
            times, busy = worker.run(command["scenario"], command["requests"])
            answer = {"times": times, "busy": busy}
        print(json.dumps(answer), file=answers, flush=True)
    return 0


class ServeTimingHandler(ClientHandler):
    """``django.test.Client``'s handler, noting when the response is ready. The client then
    closes it, as a WSGI server does once it has sent the page; what a visitor waits for
    (the serve time) ends before that, and the work done on close (a returning visitor's
    page view is written after the response) counts in the busy time only."""

    responded_at = None

    def get_response(self, request):
        response = super().get_response(request)
        ServeTimingHandler.responded_at = time.perf_counter_ns()
        return response


def timed_client(**kwargs):
    """A ``django.test.Client`` whose requests :meth:`PageWorker.run` can time."""
    client = Client(**kwargs)
    client.handler = ServeTimingHandler(client.handler.enforce_csrf_checks)
    return client


def recorded_events():
    """How many events the requests recorded: not the ``segment_entered`` / ``segment_left``
    events of the demo's segments (or a benchmark's) that the first views enter."""
    from wagtail_leadscore.models import Event

    return Event.objects.exclude(type__in=("segment_entered", "segment_left")).count()


def plugin_is_on():
    """True in the ``tracked`` configuration: the plugin's middleware is installed."""
    from django.conf import settings

    return any(entry.startswith("wagtail_leadscore.") for entry in settings.MIDDLEWARE)


class PageWorker:
    """What a benchmark's worker does with a scenario; subclasses give the scenarios.

    ``setup(scenario)`` puts the worker in the scenario's state; ``prepare(scenario)`` does
    what one request needs but the request itself (not timed) and returns the request to
    time; ``snapshot(scenario)`` and ``verify(scenario,
    requests, before)`` check afterwards that the requests did what the benchmark
    measures (raising RuntimeError if not)."""

    scenarios = ()

    def info(self):
        return {}

    def expected_status(self, scenario):
        return 200

    def setup(self, scenario):
        """Put the worker in the state ``scenario`` measures (not timed)."""

    def snapshot(self, scenario):
        return None

    def verify(self, scenario, requests, before):
        pass

    def run(self, scenario, requests):
        """Time ``requests`` requests of ``scenario`` (of a :func:`timed_client`); returns
        the serve times and the busy times, in milliseconds.
        One untimed request first: the block then starts with this process's caches warm
        (the other worker ran meanwhile) and the scenario's caches loaded (``setup``)."""
        self.setup(scenario)
        self.prepare(scenario)()
        before = self.snapshot(scenario)
        expected = self.expected_status(scenario)
        times, busy = [], []
        for _ in range(requests):
            send = self.prepare(scenario)
            ServeTimingHandler.responded_at = None
            start = time.perf_counter_ns()
            response = send()
            end = time.perf_counter_ns()
            if ServeTimingHandler.responded_at is None:
                raise RuntimeError(f"{scenario}: not sent with a timed_client()")
            times.append((ServeTimingHandler.responded_at - start) / 1e6)
            busy.append((end - start) / 1e6)
            if response.status_code != expected:
                raise RuntimeError(f"{scenario}: HTTP {response.status_code}, not {expected}")
        self.verify(scenario, requests, before)
        return times, busy

    def captured_queries(self, scenario, samples=5):
        """The SQL of one request of ``scenario`` in the steady state: of ``samples``
        requests, one with the most common number of queries (a per-process cache that
        expires now and then, e.g. the scoring rules, does not decide the count)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.setup(scenario)
        captures = []
        for _ in range(samples):
            send = self.prepare(scenario)
            with CaptureQueriesContext(connection) as captured:
                send()
            captures.append([query["sql"] for query in captured.captured_queries])
        usual, _ = Counter(len(sqls) for sqls in captures).most_common(1)[0]
        return next(sqls for sqls in captures if len(sqls) == usual)
