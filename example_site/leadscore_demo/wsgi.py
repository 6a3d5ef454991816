"""WSGI entry point for the demo site (``gunicorn leadscore_demo.wsgi`` from example_site/).

The repository root is put on ``sys.path`` so the in-tree ``wagtail_leadscore`` is used
even when the package is not installed, exactly as ``manage.py`` does.
"""

import os
import sys
from pathlib import Path

REPO_ROOT = str(Path(__file__).resolve().parent.parent.parent)
if REPO_ROOT not in sys.path:
    sys.path.append(REPO_ROOT)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadscore_demo.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
