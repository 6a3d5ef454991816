"""Data subject requests from the shell: export a contact's data, or erase it."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from ...models import Contact, normalize_email
from ...privacy.erase import erase_contact
from ...privacy.export import contact_export
from ...privacy.objection import object_to_tracking


class Command(BaseCommand):
    help = ("export EMAIL: print everything held about the contact as JSON. erase EMAIL:"
            " delete its personal data everywhere, keeping anonymous traces (--yes to skip"
            " the question). object EMAIL: stop all tracking of the person. Each is written"
            " to the privacy log.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "erase", "object"])
        parser.add_argument("email")
        parser.add_argument("--yes", action="store_true", help="erase without asking")

    def handle(self, action, email, yes=False, **options):
        contact = Contact.objects.filter(email=normalize_email(email)).first()
        if contact is None:
            raise CommandError(f"No contact has the address {email!r}.")
        if action == "export":
            self.stdout.write(json.dumps(contact_export(contact, via="command"),
                                         cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
            return
        if action == "object":
            entry = object_to_tracking(contact, via="command")
            self.stdout.write(f"No longer tracked: {contact.email} ({entry.details})")
            return
        if not yes and input(f"Erase {contact.email} for good? [y/N] ").lower() != "y":
            raise CommandError("Nothing erased.")
        entry = erase_contact(contact, via="command")
        self.stdout.write(f"Erased contact {entry.contact_id}: {entry.details}")
