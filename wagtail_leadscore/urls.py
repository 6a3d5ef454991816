"""Include with ``path("leadscore/", include("wagtail_leadscore.urls"))`` before Wagtail's."""

from django.urls import path

from .api import views as api_views
from .mail import views as mail_views
from .profiling import documents as profiling_documents
from .profiling import views as profiling_views
from .sales import views as sales_views
from .tracking import views as tracking_views

app_name = "wagtail_leadscore"

urlpatterns = [
    path("beacon/", tracking_views.beacon, name="beacon"),
    path("not-you/", profiling_views.not_you, name="not_you"),
    path("documents/<str:token>/", profiling_documents.gated_document, name="gated_document"),
    path("api/contacts/", api_views.contacts, name="api_contacts"),
    path("api/events/", api_views.events, name="api_events"),
    path("api/stages/", api_views.stages, name="api_stages"),
    path("m/c/<str:token>/", mail_views.click, name="mail_click"),
    path("m/o/<str:token>/", mail_views.open_pixel, name="mail_open"),
    path("m/u/<str:token>/", mail_views.unsubscribe, name="mail_unsubscribe"),
    path("sales/accept/<str:token>/", sales_views.accept, name="sales_accept"),
    path("sales/back/<str:token>/", sales_views.send_back, name="sales_send_back"),
]
