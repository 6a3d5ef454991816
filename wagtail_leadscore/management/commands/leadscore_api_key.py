"""Create or revoke API keys from the shell (the admin can too)."""

from django.core.management.base import BaseCommand, CommandError

from ...models import ApiKey


class Command(BaseCommand):
    help = "Create an API key (printed once) or revoke one by its prefix."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "revoke"])
        parser.add_argument("name_or_prefix", help="A name for a new key, or a key's prefix.")

    def handle(self, action, name_or_prefix, **options):
        if action == "create":
            api_key = ApiKey(name=name_or_prefix)
            raw_key = api_key.set_new_key()
            api_key.save()
            self.stdout.write(f"API key {api_key.name!r}: {raw_key}")
            self.stdout.write("Store it now: it is not shown again.")
            return
        active_keys = ApiKey.objects.filter(prefix=name_or_prefix, is_active=True)
        revoked = active_keys.update(is_active=False)
        if not revoked:
            raise CommandError(f"No active API key with prefix {name_or_prefix!r}.")
        self.stdout.write(f"Revoked {revoked} key(s).")
