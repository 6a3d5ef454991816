"""The retention task through django-q2's Redis broker, processed by django-q2's own worker.

The production set-up of DESIGN.md: tasks go to Redis and qcluster processes run them.
Needs the Redis server on 127.0.0.1:6379 (database 15; every test uses its own queue name,
and deletes its keys afterwards). Without Redis the tests skip, or fail when
LEADSCORE_REQUIRE_SERVICES=1.

The tests are transactional: a django-q2 worker and monitor call Django's
close_old_connections() before and after each task, as they do in production, which would
drop the connection holding an ordinary test's transaction (on PostgreSQL). A real qcluster
also runs in other processes, which only see committed data.
"""

import importlib.util
import os
import signal
import uuid
from datetime import timedelta
from multiprocessing import Event as ProcessEvent
from multiprocessing import Value

import pytest
import redis
from django.db import connection, connections
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.cluster import Cluster
from django_q.conf import Conf
from django_q.monitor import monitor
from django_q.pusher import pusher
from django_q.queues import Queue
from django_q.tasks import async_task, fetch, result
from django_q.worker import worker

from wagtail_leadscore import identify
from wagtail_leadscore.models import Event, Visitor

REDIS_URL = os.environ.get("LEADSCORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PRUNE = "wagtail_leadscore.tasks.prune_anonymous_visitors"

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def redis_client_or_skip():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"Redis at {REDIS_URL} is not reachable: {error}"
        if os.environ.get("LEADSCORE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} (LEADSCORE_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    return client


def conf_for_current_settings():
    """django_q's Conf as django-q2 computes it from the current settings.Q_CLUSTER.

    Conf reads Q_CLUSTER once, when django_q.conf is first imported, so overriding the
    setting alone changes nothing: the module is executed again, unregistered, to get the
    values django-q2 would have computed from the new setting.
    """
    spec = importlib.util.find_spec("django_q.conf")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Conf


class RedisQueue:
    """A django-q2 set-up on Redis with a name (queue and key prefix) of its own."""

    def __init__(self, client, name):
        self.client = client
        self.name = name
        self.broker = get_broker()

    def raw_length(self):
        """The length of the Redis list itself, asked of Redis, not of django-q2."""
        return self.client.llen(f"django_q:{self.name}:q")

    def keys(self):
        return list(self.client.scan_iter(match=f"django_q:{self.name}:*"))


@pytest.fixture
def redis_queue(settings, monkeypatch):
    client = redis_client_or_skip()
    name = f"leadscore_test_{uuid.uuid4().hex[:12]}"
    settings.Q_CLUSTER = {
        "name": name,
        "redis": REDIS_URL,
        "workers": 1,
        "timeout": 30,
        "retry": 60,
        "catch_up": False,
        "scheduler": False,  # only the task under test runs, never a due schedule
        "guard_cycle": 0.2,
    }
    for key, value in vars(conf_for_current_settings()).items():
        if key.isupper():
            monkeypatch.setattr(Conf, key, value)
    queue = RedisQueue(client, name)
    assert isinstance(queue.broker, RedisBroker)
    assert queue.broker.list_key == f"django_q:{name}:q"
    try:
        yield queue
    finally:
        keys = queue.keys()
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def visitors():
    """A stale anonymous visitor (with a page view), an old known one and a fresh one."""
    long_ago = timezone.now() - timedelta(days=400)
    stale = Visitor.objects.create(first_seen=long_ago, last_seen=long_ago)
    Event.objects.create(type="page_view", visitor=stale, path="/offer/", occurred_at=long_ago)
    known = Visitor.objects.create(
        contact=identify(None, "kept@example.com"), first_seen=long_ago, last_seen=long_ago
    )
    fresh = Visitor.objects.create()
    return {"stale": stale, "known": known, "fresh": fresh}


def assert_pruned(visitors):
    assert set(Visitor.objects.all()) == {visitors["known"], visitors["fresh"]}
    assert not Event.objects.filter(visitor_id=visitors["stale"].pk).exists()


def test_prune_task_goes_through_redis_to_a_django_q2_worker(redis_queue, visitors):
    """django-q2's pusher, worker and monitor, run in this process as its own tests do."""
    task_id = async_task(PRUNE)
    assert redis_queue.broker.queue_size() == 1
    assert redis_queue.raw_length() == 1  # the signed task really sits in Redis
    assert Visitor.objects.count() == 3  # nothing ran synchronously

    task_queue, result_queue = Queue(), Queue()
    stop_after_one_pull = ProcessEvent()
    stop_after_one_pull.set()
    pusher(task_queue, stop_after_one_pull)  # pops the task off Redis
    assert redis_queue.raw_length() == 0
    task_queue.put("STOP")
    worker(task_queue, result_queue, Value("f", -1), Conf.TIMEOUT)
    result_queue.put("STOP")
    monitor(result_queue)  # saves the result in the database

    assert result(task_id) == 1
    task = fetch(task_id)
    assert task.success and task.cluster == redis_queue.name
    assert_pruned(visitors)


def test_prune_task_runs_on_a_real_qcluster(redis_queue, visitors):
    """A real qcluster (sentinel, pusher, worker and monitor processes) takes it from Redis."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("a qcluster's processes cannot see an in-memory SQLite test database; "
                    "runs with DATABASE_URL=postgres://...")
    task_id = async_task(PRUNE)
    assert redis_queue.raw_length() == 1
    # The cluster's processes are forked: they must not inherit (and later close) this
    # process's database connection.
    connections.close_all()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    cluster = Cluster()  # installs SIGTERM/SIGINT handlers in this process: restored below
    try:
        cluster.start()
        outcome = result(task_id, wait=30_000)
    finally:
        if cluster.sentinel is not None:
            cluster.stop()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert cluster.sentinel.exitcode == 0
    assert outcome == 1
    assert redis_queue.raw_length() == 0
    task = fetch(task_id)
    assert task.success and task.cluster == redis_queue.name
    assert_pruned(visitors)


def test_two_qcluster_workers_share_the_outbox_and_send_each_email_once(
        redis_queue, mail_server, settings_leadscore, monkeypatch):
    """Two send_outbox tasks at once on a qcluster of two workers, in batches of 5: the
    leases (SKIP LOCKED) keep the workers off each other's rows; nothing is sent twice or
    left behind."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("a qcluster's processes cannot see an in-memory SQLite test database; "
                    "runs with DATABASE_URL=postgres://...")
    from wagtail_leadscore.mail.models import OutboxMessage, Status
    from wagtail_leadscore.mail.outbox import enqueue

    from .test_mail import make_email

    settings_leadscore(MAIL_BATCH_SIZE=5)
    monkeypatch.setattr(Conf, "WORKERS", 2)
    email = make_email()
    addresses = [f"reader{number}@example.com" for number in range(30)]
    for address in addresses:
        enqueue(identify(None, address), email, f"test:{address}")
    task_ids = [async_task("wagtail_leadscore.tasks.send_outbox") for _ in range(2)]
    connections.close_all()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    cluster = Cluster()
    try:
        cluster.start()
        outcomes = [result(task_id, wait=60_000) for task_id in task_ids]
    finally:
        if cluster.sentinel is not None:
            cluster.stop()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert sum(outcome.get("sent", 0) for outcome in outcomes) == 30
    assert sorted(message["To"] for message in mail_server.inbox.messages) == sorted(addresses)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}
