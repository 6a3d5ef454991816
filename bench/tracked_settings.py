"""The example site's own settings, as a benchmark runs them: the plugin fully on.

Only what a benchmark must change: DEBUG off (as in production; DEBUG also logs every
SQL query) and uploaded files kept in the benchmark's temporary directory, not in
example_site/media. The database comes from the environment, as the example settings
read it (LEADSCORE_SQLITE_PATH or DATABASE_URL).
"""

import os

from leadscore_demo.settings import *  # noqa: F403

DEBUG = False
MEDIA_ROOT = os.environ["LEADSCORE_BENCH_MEDIA_ROOT"]
