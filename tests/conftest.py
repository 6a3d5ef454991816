import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.test import Client
from wagtail.models import Page

from .mail_server import MailServer

HUMAN_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test starts from the example site's demo content."""
    with django_db_blocker.unblock():
        call_command("load_demo_content", verbosity=0)
        # Transactional tests marked serialized_rollback (live_server, task workers) restore
        # this snapshot, demo content included, instead of the bare post-migrate one.
        for connection in connections.all():
            if hasattr(connection, "_test_serialized_contents"):
                connection._test_serialized_contents = (
                    connection.creation.serialize_db_to_string()
                )


@pytest.fixture
def browser_client(client):
    """A test client that looks like a person's browser."""
    client.defaults["HTTP_USER_AGENT"] = HUMAN_UA
    return client


@pytest.fixture
def another_browser():
    """A second person's browser (or device): its own cookie jar."""
    return Client(HTTP_USER_AGENT=HUMAN_UA.replace("X11; Linux x86_64", "Linux; Android 14"))


@pytest.fixture
def admin_only_user(client, django_user_model):
    """A user who may open the Wagtail admin and nothing of the plugin, logged in on
    ``client``."""
    user = django_user_model.objects.create_user("editor", password="not used")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    return user


@pytest.fixture
def demo_pages(db):
    """Three live demo pages below the home page, by URL."""
    home = Page.objects.get(depth=2, live=True)
    pages = [page for page in home.get_descendants().live().specific() if page.url][:3]
    return pages


@pytest.fixture
def settings_leadscore(settings):
    """Change WAGTAIL_LEADSCORE keys for one test: ``settings_leadscore(TRACKING_MODE=...)``."""

    def apply(**values):
        settings.WAGTAIL_LEADSCORE = {**settings.WAGTAIL_LEADSCORE, **values}

    return apply


@pytest.fixture(autouse=True)
def fresh_scoring_caches():
    """Scoring rules, page tagging, the active segments, automation rules and webhook
    subscriptions are cached per process; a test's rolled-back rows must not outlive it
    in the cache."""
    from wagtail_leadscore.automation.engine import active_rules
    from wagtail_leadscore.scoring.sources import sources
    from wagtail_leadscore.segments.membership import active_segments
    from wagtail_leadscore.webhooks.subscriptions import subscriptions

    caches = (sources, active_segments, active_rules, subscriptions)
    for process_cache in caches:
        process_cache.clear()
    yield
    for process_cache in caches:
        process_cache.clear()


@pytest.fixture
def mail_server(settings):
    """A running SMTP server; Django's SMTP backend sends to it."""
    server = MailServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_TIMEOUT = 10
    yield server
    server.stop()


@pytest.fixture
def api_key(db):
    """A valid HTTP API key (the raw key, as a client sends it)."""
    from wagtail_leadscore.models import ApiKey

    key = ApiKey(name="CRM")
    raw = key.set_new_key()
    key.save()
    return raw


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate limits count per client IP and minute in the cache; every test has its own."""
    cache.clear()


@pytest.fixture
def later(time_machine):
    """Time that passes between showing a form and sending it (a person, not a bot)."""
    from .lead_capture import START

    time_machine.move_to(START, tick=False)

    def wait(seconds=10):
        time_machine.shift(datetime.timedelta(seconds=seconds))

    return wait
