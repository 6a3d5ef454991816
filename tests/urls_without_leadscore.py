"""A ROOT_URLCONF that forgot ``include("wagtail_leadscore.urls")`` (for the checks tests)."""

from django.urls import include, path
from wagtail import urls as wagtail_urls

urlpatterns = [path("", include(wagtail_urls))]
