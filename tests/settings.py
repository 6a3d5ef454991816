"""The example site's settings, made fast and hermetic for tests."""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "wagtail-leadscore-tests")
os.environ.setdefault("DJANGO_DEBUG", "0")

from leadscore_demo.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WAGTAIL_LEADSCORE = {}
# Demo documents are generated per test session, never into the example site's media.
MEDIA_ROOT = tempfile.mkdtemp(prefix="leadscore-test-media-")
