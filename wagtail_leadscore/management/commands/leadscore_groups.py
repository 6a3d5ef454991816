"""Create (or repair) the "Sales" group of the permission preset."""

from django.core.management.base import BaseCommand, CommandError

from ...admin.groups import SALES_GROUP, SALES_PERMISSIONS, ensure_sales_group


class Command(BaseCommand):
    help = ("Create the Sales group, or reset its permissions: contacts and leads (view,"
            " change the stage, owner and notes), companies, segments (view); no rules,"
            " webhooks, API keys or settings.")

    def add_arguments(self, parser):
        parser.add_argument("--name", default=SALES_GROUP, help="the group's name")

    def handle(self, name, **options):
        try:
            group = ensure_sales_group(name)
        except LookupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Group {group.name!r}: {len(SALES_PERMISSIONS)} permissions.")
