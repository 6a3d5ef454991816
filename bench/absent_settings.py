"""The example site with wagtail-leadscore taken out: the baseline of the benchmark.

Everything else is the same as ``tracked_settings``: the same apps, middleware, templates,
database and pages.
"""

from bench.tracked_settings import *  # noqa: F403
from bench.tracked_settings import INSTALLED_APPS, MIDDLEWARE, TEMPLATES

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "wagtail_leadscore"]
MIDDLEWARE = [entry for entry in MIDDLEWARE if not entry.startswith("wagtail_leadscore.")]
# The demo urls include the plugin's (beacon, API), which import its models.
ROOT_URLCONF = "bench.absent_urls"
# The demo's base.html does {% load leadscore_tags %} and {% leadscore_tracker %}. With the
# plugin's app gone, that library would not be found and the template would not compile;
# registering a stand-in library under the same name keeps the demo templates unchanged
# while the tag renders nothing, as on a site that never installed the plugin.
TEMPLATES = [
    {
        **TEMPLATES[0],
        "OPTIONS": {
            **TEMPLATES[0]["OPTIONS"],
            "libraries": {"leadscore_tags": "bench.absent_tags"},
        },
    }
]
