"""Settings for the wagtail-leadscore demo site.

Runs with nothing but SQLite and django-q2's ORM broker. Set DATABASE_URL (PostgreSQL) and
REDIS_URL (broker and cache) to run the same site the way production would.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent  # example_site/

# INSECURE development default: set DJANGO_SECRET_KEY anywhere the site is reachable.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "django-insecure-leadscore-demo-do-not-use-in-production"
)
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"] + [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "timberframe",
    "wagtail_leadscore",
    "django_q",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication, so tracking can skip logged-in editors.
    "wagtail_leadscore.tracking.middleware.TrackingMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "leadscore_demo.urls"
WSGI_APPLICATION = "leadscore_demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    # runserver serves each request on a new thread, so a connection kept open past its
    # request is never reused, only left idle: persistent connections are opt-in, for a
    # server with long-lived workers (gunicorn, uWSGI), checked before reuse.
    conn_max_age = int(os.environ.get("DATABASE_CONN_MAX_AGE", "0"))
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=conn_max_age,
            conn_health_checks=conn_max_age > 0,
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
        # MariaDB / MySQL: utf8mb4, or 4-byte characters (emoji) are refused or mangled.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("charset", "utf8mb4")
        DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4"}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("LEADSCORE_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # The qcluster worker writes while the web process does: WAL lets readers and
            # the writer coexist, IMMEDIATE takes the write lock up front (no upgrade
            # deadlocks) and the timeout waits for it instead of failing at once.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

Q_CLUSTER = {
    "name": "leadscore_demo",
    "workers": 2,
    "timeout": 60,
    "retry": 120,
    "orm": "default",
    "catch_up": False,
}

if os.environ.get("REDIS_URL"):
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = os.environ["REDIS_URL"]
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "Timber & Sun <hello@timberandsun.example>"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "Europe/Warsaw"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"

# Wagtail's page editor can exceed Django's default of 1000 POST fields.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

WAGTAIL_SITE_NAME = "Timber & Sun Passive Houses"
WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["pdf", "txt", "zip"]

# Every key and its default are documented in the README's settings reference.
WAGTAIL_LEADSCORE = {"TRACKING_MODE": "respect_dnt"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "wagtail_leadscore": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
