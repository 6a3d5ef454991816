import pytest
from django.core.management import call_command
from wagtail.models import Page, Site

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("n", [1, 2])
def test_probe(n):
    print(n, Site.objects.values_list("pk", "hostname", "root_page_id"), Page.objects.count())
    call_command("load_demo_content", verbosity=0)
    print(n, Site.objects.values_list("pk", "hostname", "root_page_id"), Page.objects.count())
