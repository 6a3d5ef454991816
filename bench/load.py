"""A bounded load test on loopback: pages served by gunicorn on PostgreSQL, with tracking
on (the example site) and off (plain Wagtail), side by side (a benchmark, not a test).

- One PostgreSQL database with the demo content (created and dropped here, as the other
  benchmarks do); Redis as the shared cache when it answers on 127.0.0.1:6379, as in a
  deployment of several web processes.
- Two gunicorn servers, one per configuration (``bench/absent_settings.py``: plain
  Wagtail; ``bench/tracked_settings.py``: the plugin on), each with ``--workers`` sync
  workers, DEBUG off.
- ``--visitors`` returning visitors (one first visit each to get their cookie, not
  timed), then wrk (Debian's package: ``apt-get install wrk``) requests the demo case study
  with ``--connections`` connections for ``--seconds`` per round, each request with the
  cookie of the next visitor, so every tracked request records a page view (written after
  the response), scores and updates the segments.
- The configurations take turns, ``--rounds`` rounds; the judged figure is the median of
  the per-round throughput ratios (tracked / plain), as the serve-time benchmarks pair
  their rounds. It also checks that the tracked server recorded a page view per request.

Run from the repository root (both servers and wrk share this machine's cores: the ratio
is the figure, not the absolute requests per second):

    .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --workers 4 --connections 16 --seconds 20 --rounds 5
"""

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root makes bench importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    CHROME_USER_AGENT,
    POSTGRES_SERVER,
    SETTINGS_MODULES,
    demo_database,
)

DEFAULT_POSTGRES_URL = f"{POSTGRES_SERVER}/leadscore_bench_load"
PAGE = "/case-studies/family-passive-house-puszczykowo/"
REDIS_URL = "redis://127.0.0.1:6379/7"
PORTS = {"absent": 8071, "tracked": 8072}
LABELS = {"absent": "tracking off (plain Wagtail)", "tracked": "tracking on"}

# wrk's Lua: every request carries the cookie of the next returning visitor.
WRK_SCRIPT = """
local cookies = {}
for line in io.lines("%s") do cookies[#cookies + 1] = line end
local n = 0
request = function()
  n = n %% #cookies + 1
  return wrk.format("GET", nil, {["Cookie"] = cookies[n], ["User-Agent"] = "%s"})
end
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15, help="per round and server")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--visitors", type=int, default=200)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    with demo_database(args.database_url) as env, tempfile.TemporaryDirectory() as tmp:
        if redis_answers():
            env = {**env, "REDIS_URL": REDIS_URL}
        with servers(env, args.workers) as urls:
            scripts = {name: visitor_script(urls[name], args.visitors, Path(tmp) / name)
                       for name in urls}
            for name, url in urls.items():  # warm up every worker
                wrk(url, scripts[name], args.connections, 3)
            before = page_views(env)
            results = {name: [] for name in urls}
            requests = 0
            for round_number in range(args.rounds):
                order = list(urls) if round_number % 2 == 0 else list(urls)[::-1]
                for name in order:
                    result = wrk(urls[name], scripts[name], args.connections, args.seconds)
                    results[name].append(result)
                    if name == "tracked":
                        requests += result["requests"]
            time.sleep(1)  # the last responses' writes, after the response
            recorded = page_views(env) - before
    return report(args, results, requests, recorded, "REDIS_URL" in env)


def report(args, results, requests, recorded, redis):
    print(f"\nwagtail-leadscore load test: gunicorn on PostgreSQL{' + Redis' if redis else ''}"
          f", loopback; {args.workers} sync workers per server, wrk {args.connections}"
          f" connections, {args.rounds} rounds x {args.seconds} s per server;"
          f" {args.visitors} returning visitors; GET {PAGE}")
    print(f"{'':32}{'requests/s (median)':>20}{'p50 latency':>14}{'p99 latency':>14}"
          f"{'non-2xx':>10}")
    for name, rounds in results.items():
        print(f"{LABELS[name]:32}{statistics.median(r['rps'] for r in rounds):17.1f}"
              f"{statistics.median(r['p50_ms'] for r in rounds):11.2f} ms"
              f"{statistics.median(r['p99_ms'] for r in rounds):11.2f} ms"
              f"{sum(r['errors'] for r in rounds):>10}")
    ratios = [tracked["rps"] / plain["rps"]
              for tracked, plain in zip(results["tracked"], results["absent"], strict=True)]
    ratio = statistics.median(ratios)
    print(f"throughput, tracking on / off: {ratio:.3f} (median of the per-round ratios"
          f" {', '.join(f'{r:.3f}' for r in ratios)})")
    print(f"page views recorded by the tracked server: {recorded} for {requests} requests")
    errors = sum(r["errors"] for rounds in results.values() for r in rounds)
    checks = [(errors == 0, f"no error responses ({errors})"),
              (recorded >= requests, "a page view recorded for every tracked request")]
    for passed, text in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {text}")
    return 0 if all(passed for passed, _ in checks) else 1


def redis_answers():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def servers(env, workers):
    """A gunicorn per configuration; yields {name: base URL} once both answer."""
    processes, urls = [], {}
    try:
        for name, port in PORTS.items():
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "leadscore_demo.wsgi:application",
                 "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                 "--worker-class", "sync", "--log-level", "warning"],
                env={**env, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULES[name]}))
            urls[name] = f"http://127.0.0.1:{port}"
        for url in urls.values():
            wait_until_up(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def wait_until_up(url, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + PAGE, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def visitor_script(url, visitors, path):
    """The wrk script for ``visitors`` returning visitors: each one's first visit (its
    cookie) made here."""
    cookies = []
    for _ in range(visitors):
        request = urllib.request.Request(url + PAGE, headers={"User-Agent": CHROME_USER_AGENT})
        with urllib.request.urlopen(request, timeout=10) as response:
            cookie = response.headers.get("Set-Cookie", "").split(";")[0]
        cookies.append(cookie or "none=1")  # plain Wagtail sets none
    path.with_suffix(".cookies").write_text("\n".join(cookies) + "\n")
    path.with_suffix(".lua").write_text(WRK_SCRIPT % (path.with_suffix(".cookies"),
                                                      CHROME_USER_AGENT))
    return path.with_suffix(".lua")


def wrk(url, script, connections, seconds):
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
         "-s", str(script), url + PAGE],
        check=True, stdout=subprocess.PIPE, text=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p50_ms": latency_ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99_ms": latency_ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(int(n) for n in socket_errors.groups()) if socket_errors else 0),
    }


def latency_ms(text):
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def page_views(env):
    """Page views in the benchmark's database, counted with the example site's settings."""
    code = ("import django; django.setup();"
            "from wagtail_leadscore.models import Event;"
            "print(Event.objects.filter(type='page_view').count())")
    answer = subprocess.run([sys.executable, "-c", code],
                            env={**env, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULES["tracked"]},
                            check=True, stdout=subprocess.PIPE, text=True)
    return int(answer.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
