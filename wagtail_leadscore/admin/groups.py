"""The "Sales" group preset: sales see contacts and leads and change a contact's stage,
owner or notes; they change no rule, webhook, API key or setting. Editors tag pages with
Wagtail's own page permissions (the page's "Lead scoring" tab); everything else is for
admins: superusers, or a group given the plugin's model permissions."""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

SALES_GROUP = "Sales"
# (app label, codename)
SALES_PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("wagtail_leadscore", "view_contact"),
    ("wagtail_leadscore", "change_contact"),
    ("wagtail_leadscore", "view_company"),
    ("wagtail_leadscore", "change_company"),
    ("wagtail_leadscore", "view_segment"),
)


def ensure_sales_group(name=SALES_GROUP):
    """The group ``name`` with exactly the sales permissions (created if need be), so
    running it again repairs a group edited by hand."""
    query = Q()
    for app_label, codename in SALES_PERMISSIONS:
        query |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.filter(query))
    missing = set(SALES_PERMISSIONS) - {
        (permission.content_type.app_label, permission.codename) for permission in permissions}
    if missing:
        raise LookupError(f"Permissions not found (run migrate first): {sorted(missing)}")
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.set(permissions)
    return group
