"""The plugin's models and nothing else, for ``absent_settings``.

The demo's page models mix in ``LeadScoringPageMixin`` (lead-scoring fields and a
many-to-many to the plugin's ``Topic``), so the example site cannot load its pages without
the plugin's models. This app config installs them and nothing of the plugin's behaviour:
its ``ready()`` connects no signal receiver (scoring, cache invalidation) and registers no
check, and the Wagtail hooks of the plugin (the page-view hook, the admin viewsets) are
taken out of Wagtail's registry. With the middleware, the URLs and the tracker tag gone too
(``absent_settings``), serving a page is plain Wagtail reading the same tables.
"""

from django.apps import AppConfig


class PluginModelsOnly(AppConfig):
    name = "wagtail_leadscore"
    label = "wagtail_leadscore"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from wagtail import hooks

        hooks.search_for_hooks()  # imports every app's wagtail_hooks module, once
        for registered in hooks._hooks.values():
            registered[:] = [(function, order) for function, order in registered
                             if not function.__module__.startswith(f"{self.name}.")]
