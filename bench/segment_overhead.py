"""What URL segments add to a tracked page view, and how long a full rebuild of one takes
(a benchmark, not a test).

Serve time: one run serves a demo case study, side by side, in plain Wagtail (the plugin
absent: ``bench/absent_settings.py``) and tracked (``bench/tracked_settings.py``) with 0,
1 and 50 active URL segments, for a returning visitor who is a known contact. The 50 are
of every URL kind (exact, words, string, regular expression, subtree); five of them match
the page (the 1 is one of those five), the others name other URLs. The serve time ends when
the response is ready (what the visitor waits for); the busy time also holds the work done
as the response is closed, where a returning visitor's page view and the segment update
are written (``RECORD_VIEWS_AFTER_RESPONSE``; see bench/README.md). Targets (issue 5): with
50 segments the serve time and the busy time are each within 5% of those with 0, and the
serve time is within 10% of plain Wagtail (paired per-round ratios); the update costs the
same number of queries for 1 segment as for 50.

Rebuild (PostgreSQL only): 100k contacts with 2M page views of the demo's URLs over 90 days
are generated in SQL; then ``rebuild_segment`` of one "URL contains" segment is timed
twice: the first time every member enters (memberships and ``segment_entered`` events
written), the second time nothing changes. Target (issue 5): at most 5 s.

Run from the repository root:

    .venv/bin/python bench/segment_overhead.py            # SQLite (no rebuild part)
    .venv/bin/python bench/segment_overhead.py --database-url \\
        postgres://postgres@127.0.0.1:5432/leadscore_bench_segments  # PostgreSQL
    .venv/bin/python bench/segment_overhead.py --all      # both, one after the other
    .venv/bin/python bench/segment_overhead.py --all --serve-only  # no rebuild part

The exit status is 1 if a target is missed.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root makes bench importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    POSTGRES_SERVER,
    SETTINGS_MODULES,
    add_arguments,
    measure,
    medians,
    paired_ratio,
    print_checks,
    run_on_databases,
    serve_as_worker,
)
from bench.scoring_overhead import Worker as ScoringWorker  # noqa: E402

DEFAULT_POSTGRES_URL = f"{POSTGRES_SERVER}/leadscore_bench_segments"

MAX_SEGMENT_OVERHEAD = 0.05  # 50 segments against none
MAX_SERVE_OVERHEAD = 0.10  # against plain Wagtail
MAX_REBUILD_SECONDS = 5.0
PAGE = "plain"  # the scoring benchmark's case study
SEGMENT_COUNTS = (0, 1, 50)
MATCHING = 5  # of the 50, those that match the page
MEASUREMENTS = (("absent", f"{PAGE}@0", "plain Wagtail"),
                *(("tracked", f"{PAGE}@{count}", f"tracked, {count} segments")
                  for count in SEGMENT_COUNTS))
REBUILD_CONTACTS, REBUILD_VIEWS = 100_000, 2_000_000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--serve-only", action="store_true",
                        help="measure the serve time only, not the rebuild")
    parser.add_argument("--rebuild-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return serve_as_worker(Worker, args.warmup)
    if args.rebuild_worker:
        return rebuild_worker()

    def run(env, title):
        samples, busy, queries, info = measure(Path(__file__), env, args, MEASUREMENTS)
        passed = report(title, info["tracked"], samples, busy, queries, args)
        if title.startswith("PostgreSQL") and not args.serve_only:
            passed = report_rebuild(env) and passed
        return passed

    return run_on_databases(args, DEFAULT_POSTGRES_URL, run)


def report(title, info, samples, busy, queries, args):
    times = medians(samples)
    plain, none = "plain Wagtail", "tracked, 0 segments"
    print(f"\nwagtail-leadscore URL segments on the serve path: {title}")
    print(f"{info['page']}; a returning visitor who is a known contact; {args.rounds} rounds"
          f" x {args.requests} requests per line after {args.warmup} warm-up; DEBUG off")
    print(f"{'':24}{'served':>30}{'busy (writes after the response too)':>40}")
    print(f"{'':24}{'median':>11}{'/ plain':>9}{'/ 0 segm.':>10}"
          f"{'median':>15}{'/ plain':>9}{'/ 0 segm.':>10}{'SQL queries':>13}")
    ratios, busy_ratios, busy_times = {}, {}, medians(busy)
    for *_, label in MEASUREMENTS:
        ratios[label] = (paired_ratio(samples, label, plain),
                         paired_ratio(samples, label, none))
        busy_ratios[label] = (paired_ratio(busy, label, plain), paired_ratio(busy, label, none))
        print(f"{label:24}{times[label][0]:8.3f} ms{ratios[label][0]:9.3f}"
              f"{ratios[label][1]:10.3f}{busy_times[label][0]:12.3f} ms"
              f"{busy_ratios[label][0]:9.3f}{busy_ratios[label][1]:10.3f}"
              f"{queries[label]['all']:>13}")
    fifty, one = "tracked, 50 segments", "tracked, 1 segments"
    print(f"INFO  {MATCHING} of the 50 segments match the page; an anonymous visitor's view:"
          f" {queries[fifty]['anonymous']} queries with 50 segments,"
          f" {queries[none]['anonymous']} with none")
    return print_checks([
        (ratios[fifty][1] <= 1 + MAX_SEGMENT_OVERHEAD,
         f"50 URL segments: serve time {ratios[fifty][1]:.3f} of 0 segments"
         f" ({ratios[fifty][1] - 1:+.1%}; target at most +{MAX_SEGMENT_OVERHEAD:.0%})"),
        (busy_ratios[fifty][1] <= 1 + MAX_SEGMENT_OVERHEAD,
         f"50 URL segments: busy time {busy_ratios[fifty][1]:.3f} of 0 segments, the"
         f" membership update included ({busy_ratios[fifty][1] - 1:+.1%};"
         f" target at most +{MAX_SEGMENT_OVERHEAD:.0%})"),
        (ratios[fifty][0] <= 1 + MAX_SERVE_OVERHEAD,
         f"50 URL segments: serve time {ratios[fifty][0]:.3f} of plain Wagtail"
         f" ({ratios[fifty][0] - 1:+.1%}; target at most +{MAX_SERVE_OVERHEAD:.0%})"),
        (queries[one]["all"] == queries[fifty]["all"],
         f"the update's queries do not grow with the segments: {queries[one]['all']} per view"
         f" with 1 segment, {queries[fifty]['all']} with 50 ({queries[none]['all']} with none)"),
    ])


def report_rebuild(env):
    """The rebuild part, in a process of its own (Django set up on the same database)."""
    answer = subprocess.run(
        [sys.executable, __file__, "--rebuild-worker"],
        env={**env, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULES["tracked"]},
        check=True, stdout=subprocess.PIPE, text=True)
    result = json.loads(answer.stdout.strip().splitlines()[-1])
    print(f"\nrebuild of one \"URL contains\" segment: {result['contacts']} contacts,"
          f" {result['views']} page views (generated in {result['generate_seconds']:.1f} s)")
    for name in ("first", "again"):
        entered, left = result[f"{name}_outcome"]["contact"]
        print(f"  {name:6} {result[f'{name}_seconds']:6.2f} s   {entered} entered, {left} left")
    return print_checks([
        (result[f"{name}_seconds"] <= MAX_REBUILD_SECONDS,
         f"rebuild ({name}): {result[f'{name}_seconds']:.2f} s"
         f" (target at most {MAX_REBUILD_SECONDS:.0f} s)")
        for name in ("first", "again")])


# --- The serve-time worker: one configuration, in its own process. -----------------------


def page_of(scenario):
    return scenario.partition("@")[0]


def segment_specs(page):
    """The 50 URL segments: ``MATCHING`` that match ``page`` first, then 45 that do not."""
    from wagtail.models import Page

    index = page.get_parent()
    blog = Page.objects.get(slug="blog")
    matching = [
        {"match": "url_contains", "url": "case-studies"},
        {"match": "url_words", "url": "passive house", "at_least": 2},
        {"match": "url_regex", "url": r"^/case-studies/[a-z0-9-]+/$"},
        {"match": "page_subtree", "page": index.pk},
        {"match": "url_exact", "url": page.url, "within_days": 30},
    ]
    others = [
        [{"match": "url_exact", "url": f"/landing/{number}/"},
         {"match": "url_words", "url": f"campaign{number} spring"},
         {"match": "url_contains", "url": f"promo-{number}"},
         {"match": "url_regex", "url": rf"^/events/{number}-[a-z]+/$"},
         {"match": "page_subtree", "page": blog.pk}][number % 5]
        for number in range(50 - MATCHING)
    ]
    return matching + others


class Worker(ScoringWorker):
    """The scoring benchmark's returning contact, on one page, with 0, 1 or 50 active
    segments (``<page>@<count>``)."""

    def __init__(self):
        super().__init__()
        self.scenarios = [scenario for _, scenario, _ in MEASUREMENTS]
        if self.tracked:
            self.segments = self.create_segments()

    def info(self):
        return {"page": self.paths[PAGE]}

    def create_segments(self):
        from timberframe.models import CaseStudyPage
        from wagtail_leadscore.models import Segment

        page = CaseStudyPage.objects.live().order_by("path").first()
        return Segment.objects.bulk_create([
            Segment(name=f"Bench {number}", slug=f"bench-{number}", is_active=False,
                    conditions=json.dumps([{"type": "visited_url", "value": condition}]))
            for number, condition in enumerate(segment_specs(page))])

    def setup(self, scenario):
        if not self.tracked:
            return
        from wagtail_leadscore.models import Segment
        from wagtail_leadscore.segments.membership import active_segments

        count = int(scenario.partition("@")[2])
        active = [segment.pk for segment in self.segments[:count]]
        Segment.objects.filter(pk__in=active).update(is_active=True)
        Segment.objects.exclude(pk__in=active).update(is_active=False)
        active_segments.clear()

    def prepare(self, scenario):
        return super().prepare(page_of(scenario))

    def snapshot(self, scenario):
        return super().snapshot(page_of(scenario))

    def verify(self, scenario, requests, before):
        super().verify(page_of(scenario), requests, before)
        if before is None:
            return
        from wagtail_leadscore.models import SegmentMembership

        count = int(scenario.partition("@")[2])
        expected = {segment.pk for segment in self.segments[:min(count, MATCHING)]}
        joined = set(SegmentMembership.objects.filter(
            contact=self.contact, segment__is_active=True).values_list("segment_id", flat=True))
        if joined != expected:
            raise RuntimeError(f"{scenario}: the contact is in segments {sorted(joined)}, not"
                               f" {sorted(expected)}: the update does not do what it should.")


# --- The rebuild worker. -----------------------------------------------------------------


def rebuild_worker():
    answers, sys.stdout = sys.stdout, sys.stderr
    import django

    django.setup()
    from wagtail_leadscore.models import Segment
    from wagtail_leadscore.segments.rebuild import rebuild_segment

    started = time.perf_counter()
    generate_page_views()
    result = {"contacts": REBUILD_CONTACTS, "views": REBUILD_VIEWS,
              "generate_seconds": time.perf_counter() - started}
    segment = Segment.objects.create(
        name="Bench: passive-house readers", is_active=True, conditions=json.dumps([
            {"type": "visited_url", "value": {"match": "url_contains", "url": "passive"}}]))
    for name in ("first", "again"):
        started = time.perf_counter()
        result[f"{name}_outcome"] = rebuild_segment(segment)
        result[f"{name}_seconds"] = time.perf_counter() - started
    print(json.dumps(result), file=answers, flush=True)
    return 0


def generate_page_views():
    """Contacts, one visitor each, and page views of the demo's URLs, in SQL."""
    from django.db import connection
    from wagtail.models import Page

    paths = [page.url for page in Page.objects.live().filter(depth__gt=2).specific()
             if page.url]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wagtail_leadscore_contact (email, first_name, last_name, company,"
            " company_size, job_title, phone, industry, country, facts, stage,"
            " stage_changed_at, fit_score, fit_grade, engagement, created_at, updated_at)"
            " SELECT 'bench-' || g || '@example.com', '', '', '', '', '', '', '', '', '{}',"
            " 'prospect', now(), 0, 'D', 'active', now(), now() FROM generate_series(1, %s) g",
            [REBUILD_CONTACTS])
        cursor.execute(
            "INSERT INTO wagtail_leadscore_visitor (id, contact_id, first_seen, last_seen,"
            " user_agent, device, browser, os, is_bot) SELECT gen_random_uuid(), id, now(),"
            " now(), '', '', '', '', false FROM wagtail_leadscore_contact")
        cursor.execute(
            "INSERT INTO wagtail_leadscore_event (type, name, visitor_id, contact_id, page_id,"
            " path, query, referrer, properties, occurred_at)"
            " SELECT 'page_view', '', v.id, v.contact_id, NULL,"
            " (%s::varchar[])[1 + (g * 7919) %% %s], '', '', '{}',"
            " now() - ((g %% 90) * interval '1 day')"
            " FROM generate_series(CAST(0 AS bigint), %s - 1) g"
            " JOIN (SELECT id, contact_id, row_number() OVER (ORDER BY contact_id) - 1 AS n"
            " FROM wagtail_leadscore_visitor WHERE contact_id IS NOT NULL) v"
            " ON v.n = (g * 104729) %% %s",
            [paths, len(paths), REBUILD_VIEWS, REBUILD_CONTACTS])
        cursor.execute("VACUUM ANALYZE")


if __name__ == "__main__":
    sys.exit(main())
