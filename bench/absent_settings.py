"""The example site with wagtail-leadscore's behaviour taken out: the baseline, "plain
Wagtail".

Everything else is the same as ``tracked_settings``: the same apps, middleware, templates,
database and pages. The plugin's models stay installed (``absent_apps``: the demo's page
models need them), without its signal receivers and Wagtail hooks.
"""

from bench.tracked_settings import *  # noqa: F403
from bench.tracked_settings import INSTALLED_APPS, MIDDLEWARE, TEMPLATES

INSTALLED_APPS = ["bench.absent_apps.PluginModelsOnly" if app == "wagtail_leadscore" else app
                  for app in INSTALLED_APPS]
MIDDLEWARE = [entry for entry in MIDDLEWARE if not entry.startswith("wagtail_leadscore.")]
# The demo urls include the plugin's (beacon, API).
ROOT_URLCONF = "bench.absent_urls"
# The demo's base.html does {% load leadscore_tags %} and {% leadscore_tracker %}. A
# stand-in library registered under the same name keeps the demo templates unchanged while
# the tag renders nothing, as on a site that never installed the plugin.
TEMPLATES = [
    {
        **TEMPLATES[0],
        "OPTIONS": {
            **TEMPLATES[0]["OPTIONS"],
            "libraries": {"leadscore_tags": "bench.absent_tags"},
        },
    }
]
