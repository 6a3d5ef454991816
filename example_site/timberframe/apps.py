from django.apps import AppConfig


class TimberframeConfig(AppConfig):
    name = "timberframe"
    verbose_name = "Timber & Sun demo site"
