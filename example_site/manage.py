#!/usr/bin/env python
"""Command-line entry point for the wagtail-leadscore demo site.

Works from any working directory (e.g. ``python example_site/manage.py rundemo`` from the
repository root): the demo project and the repository checkout are put on ``sys.path`` so
``leadscore_demo`` and the in-tree ``wagtail_leadscore`` import without installing anything.
"""

import os
import sys
from pathlib import Path

SITE_DIR = Path(__file__).resolve().parent


def main():
    for path in (SITE_DIR.parent, SITE_DIR):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadscore_demo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
