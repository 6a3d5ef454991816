"""python manage.py leadscore_synthetic_population [--contacts N] [--buyers N] [--seed N]
[--remove]: contacts with planted buyer behaviours, for trying scoring insights."""

from django.core.management.base import BaseCommand

from ...scoring.synthetic import generate_population, remove_population


class Command(BaseCommand):
    help = ("Create synthetic contacts (some confirmed by sales) with planted buyer "
            "behaviours, for Reports → Lead scoring: insights; --remove deletes them.")

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=10_000)
        parser.add_argument("--buyers", type=int, default=200)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--remove", action="store_true")

    def handle(self, *args, contacts, buyers, seed, remove, **options):
        if remove:
            self.stdout.write(f"Removed {remove_population()} rows.")
            return
        if not 0 < buyers < contacts:
            self.stderr.write("--buyers must be more than 0 and fewer than --contacts.")
            raise SystemExit(2)
        planted = generate_population(contacts, buyers, seed)
        self.stdout.write(self.style.SUCCESS(
            f"{contacts} contacts, {buyers} of them buyers. Planted behaviours:"))
        for key in planted:
            self.stdout.write(f"  {key}")
