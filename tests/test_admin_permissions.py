"""Every admin view of the plugin refuses a user without its permission, and the Sales
preset lets sales work with contacts and leads but change no rule, webhook or setting."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import URLResolver, get_resolver, reverse

from wagtail_leadscore import identify, record_event
from wagtail_leadscore.admin.groups import SALES_GROUP, SALES_PERMISSIONS
from wagtail_leadscore.models import Company, Contact

pytestmark = pytest.mark.django_db

# The viewsets' URL namespaces that are not named after their model.
NAMESPACE_MODELS = {
    "leadscore_contacts": "contact",
    "leadscore_companies": "company",
    "leadscore_digest_recipients": "digestrecipient",
    "leadscore_api_keys": "apikey",
}


def plugin_admin_urls():
    """(URL name, route) of every admin view the plugin registers."""

    def walk(patterns, prefix="", namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern),
                                pattern.namespace or namespace)
            elif pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, prefix + str(pattern.pattern)

    return sorted({(name, route) for name, route in walk(get_resolver().url_patterns)
                   if route.startswith("admin/") and "leadscore" in name})


def model_of(url_name):
    namespace = url_name.partition(":")[0]
    model_name = NAMESPACE_MODELS.get(namespace) or namespace.rpartition("_")[2]
    return apps.get_model("wagtail_leadscore", model_name)


def an_object_of(model):
    """A row of ``model``: the demo content has most; the rest are made here."""
    existing = model.objects.order_by("pk").first()
    if existing is not None:
        return existing
    if model is Contact:
        return identify(None, "someone@example.com")
    if model is Company:
        return Company.objects.create(name="Timberframe", domain="timberframe.example")
    return model.objects.create(**{"name": "A test row"} if any(
        field.name == "name" for field in model._meta.fields) else {})


def resolved_url(url_name, route):
    if "<" not in route:
        return reverse(url_name)
    return reverse(url_name, kwargs={"pk": an_object_of(model_of(url_name)).pk})


def counts():
    return {model: model.objects.count()
            for model in apps.get_app_config("wagtail_leadscore").get_models()}


def test_every_admin_view_refuses_a_user_without_its_permission(
        client, admin_only_user, admin_client):
    urls = plugin_admin_urls()
    assert len(urls) > 100  # the walk finds the viewsets, snippets, reports and choosers
    record_event("offline", contact=an_object_of(Contact), name="Budma")
    resolved = [resolved_url(url_name, route) for url_name, route in urls]
    post_only = set()
    for url in resolved:  # the URL itself is sound: an admin gets it
        status = admin_client.get(url).status_code
        assert status != 404, url
        if status == 405:  # a POST-only view
            post_only.add(url)
    before = counts()
    for url in resolved:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if method == "get" and url in post_only:
                assert response.status_code == 405, url
                continue
            assert response.status_code in (302, 403), (method, url)
            if response.status_code == 302:  # Wagtail's "permission denied": home, with a message
                assert response["Location"] == reverse("wagtailadmin_home"), url
    assert counts() == before  # no refused POST changed anything


def test_the_sales_group_works_with_contacts_and_changes_no_rule(client, django_user_model):
    call_command("leadscore_groups", verbosity=0)
    call_command("leadscore_groups", verbosity=0)  # again: repairs, never duplicates
    user = django_user_model.objects.create_user("sam", password="not used")
    user.groups.add(user.groups.model.objects.get(name=SALES_GROUP))
    assert user.groups.get().permissions.count() == len(SALES_PERMISSIONS)
    client.force_login(user)
    contact = identify(None, "horacy@example.com")
    for url in ("/admin/leadscore_contacts/", f"/admin/leadscore_contacts/inspect/{contact.pk}/",
                "/admin/leadscore_companies/", reverse("leadscore_funnel"),
                "/admin/snippets/wagtail_leadscore/segment/"):
        assert client.get(url).status_code == 200, url
    assert "Hottest open leads" in client.get("/admin/").content.decode()
    response = client.post(f"/admin/leadscore_contacts/stage/{contact.pk}/",
                           {"stage": "sql", "reason": "Called, has a plot"})
    assert response.status_code == 302
    assert Contact.objects.get(pk=contact.pk).stage == "sql"
    for url in ("/admin/snippets/wagtail_leadscore/scoringrule/add/",
                "/admin/snippets/wagtail_leadscore/webhook/",
                "/admin/snippets/wagtail_leadscore/automationrule/",
                "/admin/leadscore_api_keys/", reverse("leadscore_insights"),
                "/admin/settings/wagtail_leadscore/leaddefinition/",
                "/admin/snippets/wagtail_leadscore/segment/add/"):
        assert client.get(url).status_code in (302, 403), url


def test_page_editors_choose_topics_and_segments_but_see_no_rules(client, django_user_model):
    editor = django_user_model.objects.create_user("eda", password="not used")
    editor.groups.add(editor.groups.model.objects.get(name="Editors"))  # Wagtail's own
    client.force_login(editor)
    for model in ("topic", "segment"):
        assert client.get(f"/admin/snippets/choose/wagtail_leadscore/{model}/").status_code == 200
    for model in ("automationrule", "webhook", "email", "scoringrule"):
        refused = client.get(f"/admin/snippets/choose/wagtail_leadscore/{model}/")
        assert refused.status_code in (302, 403), model
