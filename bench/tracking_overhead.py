"""How much server-side tracking and the JS beacon cost (a benchmark, not a test).

What it measures, on one demo article page of the example site:

1. the median time to serve the page with wagtail-leadscore's behaviour absent (only its
   models installed, which the demo's page models need; no middleware, hooks, signal
   receivers or URLs, the tracker tag rendering nothing: ``bench/absent_settings.py``);
2. the median time to serve it with the plugin on (the example site's settings,
   ``bench/tracked_settings.py``), for a returning visitor (cookie kept) and for a first
   visit (no cookie: the visitor is created too). Articles are scored +3 once a day, so
   past the day's first view a view also counts the period counter (one upsert);
3. the median time of one beacon POST to /leadscore/beacon/ as tracker.js sends it (a
   custom event; a page_view of a page served from a cache; and the page_view that
   repeats a view the server has just recorded, a duplicate), and the SQL queries of each;

and checks them against the targets of the hot-path principle in DESIGN.md:

- server-side tracking adds at most 10% to the median serve time. The target is judged on
  the returning visitor: every browser's views but its first are of that kind, so it is
  the median page view. A first visit also creates the visitor row (once per browser);
  its ratio is printed as INFO, not judged;
- a beacon costs at most 3 SQL queries (new event, and duplicate).

How (``bench/harness.py``, shared with ``scoring_overhead.py``): the database (a throwaway
SQLite file, or a PostgreSQL database created and dropped here) is migrated and loaded
with the demo content once. Each configuration then runs in its own long-lived worker
process (their settings differ); after a warm-up the workers take turns, round after
round, so that machine noise hits every configuration alike.
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
import re
import sys
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root makes bench importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    CHROME_USER_AGENT,
    POSTGRES_SERVER,
    PageWorker,
    add_arguments,
    busy_ratio_line,
    measure,
    medians,
    paired_ratio,
    plugin_is_on,
    print_checks,
    recorded_events,
    run_on_databases,
    serve_as_worker,
    timed_client,
)

DEFAULT_POSTGRES_URL = f"{POSTGRES_SERVER}/leadscore_bench"

MAX_SERVE_OVERHEAD = 0.10
MAX_BEACON_QUERIES = 3

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
    add_arguments(parser)
    args = parser.parse_args()
    if args.worker:
        return serve_as_worker(Worker, args.warmup)

    def run(env, title):
        samples, busy, queries, info = measure(Path(__file__), env, args, MEASUREMENTS)
        if info["absent"]["page"] != info["tracked"]["page"]:
            raise RuntimeError(f"The workers serve different pages: {info}")
        return report(title, info["tracked"]["page"], samples, busy, queries, args)

    return run_on_databases(args, DEFAULT_POSTGRES_URL, run)


def report(title, page, samples, busy, queries, args):
    print(f"\nwagtail-leadscore tracking overhead: {title}")
    print(
        f"page {page}; {args.rounds} rounds x {args.requests} requests per measurement"
        f" after {args.warmup} warm-up; DEBUG off; django.test.Client"
    )
    print(f"{'':28}{'median':>10}  {'round medians, p25-p75':>22}  {'SQL queries':>11}")
    times = medians(samples)
    for label, (median, low, high) in times.items():
        print(f"{label:28}{median:7.3f} ms  {low:11.3f}-{high:6.3f} ms  {queries[label]:>11}")

    checks = []
    for label in (JUDGED_PAGE, REPORTED_PAGE):
        ratio = paired_ratio(samples, label, "plugin absent")
        overall = times[label][0] / times["plugin absent"][0]
        text = (f"{label}: tracked/absent ratio {ratio:.3f} ({ratio - 1:+.1%}; median of the"
                f" per-round ratios; of the medians: {overall:.3f})")
        if label == JUDGED_PAGE:
            checks.append((ratio <= 1 + MAX_SERVE_OVERHEAD,
                           f"{text}; target at most +{MAX_SERVE_OVERHEAD:.0%}"))
            print(busy_ratio_line(busy, label, "plugin absent"))
        else:
            print(f"INFO  {text}; once per browser, the visitor row is created too")
    for label in BEACONS:
        checks.append((
            queries[label] <= MAX_BEACON_QUERIES,
            f"{label}: {queries[label]} SQL queries (target at most {MAX_BEACON_QUERIES})",
        ))
    return print_checks(checks)


# --- The worker: one configuration, in its own process. ----------------------------------

# The tracker's configuration in a page, as the {% leadscore_tracker %} tag renders it.
TRACKER_CONFIG = re.compile(r'<script id="leadscore-config" type="application/json">(.*?)<')


class Worker(PageWorker):
    """Times the scenarios of one configuration against the demo article page.

    - ``page``: GET the page, the cookie kept between requests (a returning visitor);
    - ``first_visit``: GET the page without a cookie;
    - ``beacon_custom``: a returning visitor's custom event (``leadscore.track("cta")``);
    - ``beacon_page_view``: the page_view tracker.js sends from a page served by a cache:
      its view token names the page but no view recorded by the server, so it is new;
    - ``beacon_duplicate``: the page_view tracker.js sends right after the server recorded
      the view (a fresh page render, not timed, comes first): the event is deduplicated.
      A retried beacon costs the same.

    Every scenario records exactly one event per request (for duplicates, the page view
    rendered before each): checked after every run.
    """

    def __init__(self):
        from timberframe.models import ArticlePage

        page = ArticlePage.objects.live().order_by("path").first()
        self.path = page.url
        self.client = timed_client(headers={"user-agent": CHROME_USER_AGENT})
        self.first_visit_client = timed_client(headers={"user-agent": CHROME_USER_AGENT})
        self.beacons_sent = 0
        self.tracked = plugin_is_on()
        if self.tracked:
            from wagtail_leadscore.tracking.pageviews import make_view_token

            self.cached_view_token = make_view_token(page.pk, None)
            self.scenarios = [scenario for name, scenario, _ in MEASUREMENTS if name == "tracked"]
        else:
            self.scenarios = ["page"]

    def info(self):
        return {"page": self.path}

    def expected_status(self, scenario):
        return 204 if scenario.startswith("beacon") else 200

    def snapshot(self, scenario):
        return self.event_count()

    def verify(self, scenario, requests, before):
        if before is not None and self.event_count() - before != requests:
            raise RuntimeError(
                f"{scenario}: {self.event_count() - before} events for {requests} requests;"
                " tracking does not record what the benchmark sends."
            )

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
        return recorded_events() if self.tracked else None

    def count_queries(self):
        """The SQL queries of one request of each scenario, in the steady state."""
        return {scenario: len(self.captured_queries(scenario)) for scenario in self.scenarios}


if __name__ == "__main__":
    sys.exit(main())
