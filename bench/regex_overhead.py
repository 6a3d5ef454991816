"""What a pathological regular expression costs a tracked page view whose query string is
10,000 characters long (a benchmark, not a test; issue 19, item 4: ReDoS).

One run serves the scoring benchmark's case study, side by side, with the URL
``<page>?q=aaa…a!`` (10,000 characters of query) to a returning visitor who is a known
contact, twice: without, and with, a scoring rule and a segment "URL matches ``(a+)+$``"
active (the expression does not match: Python's ``re`` would try every way of splitting
the run of a's before saying so). Both lines run in the tracked configuration
(``bench/tracked_settings.py``); the worker checks that every view is recorded and earns
the page's points only. Target (issue 19): the view with the rule answers within 100 ms of
the view without it (the median of the per-round differences of the serve time).

The figure of the old matcher (Python's ``re``, as ``url_regex`` compiled rules before) is
measured on the same URL with short queries only, each longer one until a match takes
over two seconds: the old code would take longer than the age of the universe at 10,000
characters.

Run from the repository root:

    .venv/bin/python bench/regex_overhead.py            # SQLite
    .venv/bin/python bench/regex_overhead.py --database-url \\
        postgres://postgres@127.0.0.1:5432/leadscore_bench_regex  # PostgreSQL
    .venv/bin/python bench/regex_overhead.py --all      # both, one after the other

The exit status is 1 if the target is missed.
"""

import argparse
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root makes bench importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    POSTGRES_SERVER,
    add_arguments,
    measure,
    medians,
    print_checks,
    run_on_databases,
    serve_as_worker,
)
from bench.scoring_overhead import Worker as ScoringWorker  # noqa: E402

DEFAULT_POSTGRES_URL = f"{POSTGRES_SERVER}/leadscore_bench_regex"

MAX_DIFFERENCE_MS = 100
PAGE = "plain"  # the scoring benchmark's case study: +5 per view, no cap
PATHOLOGICAL = "(a+)+$"
QUERY_LENGTH = 10_000
MEASUREMENTS = (("tracked", f"{PAGE}@without", "without the rule"),
                ("tracked", f"{PAGE}@with", f"with {PATHOLOGICAL}"))
OLD_MATCHER_LIMIT_SECONDS = 2.0
# Within the validator's limits but hostile to RE2's DFA (every position may start a match
# whose end is 250 characters on), so RE2 falls back to its slower automaton: the slowest
# accepted expression known, timed on the longest URL matched.
SLOWEST_ACCEPTED = "[ab]*a[ab]{250}[ab]*a[ab]{230}z"


def long_query(length):
    """``q=aaa…a!``, ``length`` characters."""
    return "q=" + "a" * (length - 3) + "!"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser, rounds=30, requests=5, warmup=10)
    args = parser.parse_args()
    if args.worker:
        return serve_as_worker(Worker, args.warmup)

    def run(env, title):
        samples, _busy, queries, info = measure(Path(__file__), env, args, MEASUREMENTS)
        return report(title, info["tracked"], samples, queries, args)

    status = run_on_databases(args, DEFAULT_POSTGRES_URL, run)
    report_old_matcher()
    return status


def report(title, info, samples, queries, args):
    times = medians(samples)
    without, with_rule = (label for *_, label in MEASUREMENTS)
    difference = statistics.median(
        statistics.median(times_with) - statistics.median(times_without)
        for times_with, times_without in zip(samples[with_rule], samples[without],
                                             strict=True))
    print(f"\nwagtail-leadscore: a pathological URL expression on the serve path: {title}")
    print(f"{info['url']} ({info['url_length']} characters); a returning visitor who is a"
          f" known contact; {args.rounds} rounds x {args.requests} requests per line after"
          f" {args.warmup} warm-up; DEBUG off")
    for *_, label in MEASUREMENTS:
        print(f"  {label:24}{times[label][0]:9.3f} ms  (round medians p25-p75"
              f" {times[label][1]:.3f}-{times[label][2]:.3f} ms)"
              f"  {queries[label]['all']} SQL queries")
    print(f"  {'difference':24}{times[with_rule][0] - times[without][0]:+9.3f} ms  (of the"
          f" medians; median of the per-round differences {difference:+.3f} ms)")
    print(f"INFO  the slowest accepted expression known, {SLOWEST_ACCEPTED}, on a"
          f" {info['slowest_url_length']:,}-character URL: {info['slowest_ms']:.1f} ms")
    return print_checks([(
        difference <= MAX_DIFFERENCE_MS,
        f"a scoring rule and a segment matching {PATHOLOGICAL} add {difference:+.3f} ms to a"
        f" view with a {QUERY_LENGTH:,}-character query (target at most"
        f" {MAX_DIFFERENCE_MS} ms)")])


def report_old_matcher():
    """The old matcher's time on the benchmark page's URL with ever longer queries."""
    pattern = re.compile(PATHOLOGICAL, re.IGNORECASE)
    print(f"\nthe old matcher (Python's re, case-insensitive) on /case-studies/…/?q=aaa…a%21,"
          f" {PATHOLOGICAL}:")
    for length in range(14, 40):
        url = f"/case-studies/a/?q={'a' * length}%21"
        started = time.perf_counter()
        pattern.search(url)
        seconds = time.perf_counter() - started
        print(f"  {length} a's: {seconds * 1000:10.1f} ms")
        if seconds > OLD_MATCHER_LIMIT_SECONDS:
            break
    print(f"  (the time doubles with every a: at {QUERY_LENGTH:,} characters, never)")


# --- The worker: the tracked configuration, in its own process. --------------------------


def page_of(scenario):
    return scenario.partition("@")[0]


class Worker(ScoringWorker):
    """The scoring benchmark's returning contact, viewing one page with a 10,000-character
    query, with the pathological rule and segment inactive (``<page>@without``) or active
    (``<page>@with``). The scoring worker's checks hold: the expression matches nothing, so
    a view earns the page's points only."""

    def __init__(self):
        super().__init__()
        self.scenarios = [scenario for _, scenario, _ in MEASUREMENTS]
        self.url = f"{self.paths[PAGE]}?{long_query(QUERY_LENGTH)}"
        self.rule, self.segment = self.create_rule_and_segment()

    def info(self):
        return {"url": f"{self.paths[PAGE]}?q=aaa…a!", "url_length": len(self.url),
                **self.time_slowest_accepted()}

    def time_slowest_accepted(self):
        """The best of three matches of SLOWEST_ACCEPTED against a URL of random a's and
        b's (no z) of the longest length matched."""
        from wagtail_leadscore.url_regex import MAX_URL_LENGTH, pattern_error, url_matcher

        refused = pattern_error(SLOWEST_ACCEPTED)
        if refused:
            raise RuntimeError(f"{SLOWEST_ACCEPTED} is refused: {refused}")
        letters = random.Random(0).choices("ab", k=MAX_URL_LENGTH - 1)
        url, matches = "/" + "".join(letters), url_matcher(SLOWEST_ACCEPTED)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            matches(url)
            times.append((time.perf_counter() - started) * 1000)
        return {"slowest_ms": min(times), "slowest_url_length": len(url)}

    def create_rule_and_segment(self):
        from wagtail_leadscore.models import ScoringRule, Segment

        rule = ScoringRule.objects.create(name="Bench: pathological", trigger="url_regex",
                                          value=PATHOLOGICAL, points=100, is_active=False)
        segment = Segment.objects.create(
            name="Bench: pathological", slug="bench-pathological", is_active=False,
            conditions=json.dumps([{"type": "visited_url", "value": {
                "match": "url_regex", "url": PATHOLOGICAL}}]))
        return rule, segment

    def setup(self, scenario):
        from wagtail_leadscore.models import ScoringRule, Segment
        from wagtail_leadscore.scoring.sources import sources
        from wagtail_leadscore.segments.membership import active_segments

        active = scenario.endswith("@with")
        ScoringRule.objects.filter(pk=self.rule.pk).update(is_active=active)
        Segment.objects.filter(pk=self.segment.pk).update(is_active=active)
        sources.clear()
        active_segments.clear()

    def prepare(self, scenario):
        self.views[PAGE] += 1
        return lambda: self.client.get(self.url)

    def snapshot(self, scenario):
        return super().snapshot(page_of(scenario))

    def verify(self, scenario, requests, before):
        super().verify(page_of(scenario), requests, before)
        from wagtail_leadscore.models import SegmentMembership

        if SegmentMembership.objects.filter(segment=self.segment).exists():
            raise RuntimeError(f"{scenario}: the contact entered the pathological segment.")


if __name__ == "__main__":
    sys.exit(main())
