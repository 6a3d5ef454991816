"""Import offline events (e.g. trade-fair attendees) from a CSV file.

Columns: ``email`` (required), ``occurred_at``, ``name``, ``type``, ``path``, any Contact
profile field (first_name, company, phone, ...); every other column becomes a property.
Good rows are stored, bad rows reported by line number; re-importing a dated row adds
nothing.
"""

import csv

from django.core.management.base import BaseCommand, CommandError

from ...ingest import EventRecordForm, validate_record
from ...models import Contact

RECORD_COLUMNS = {"email", "occurred_at", "name", "type", "path", "id", *Contact.PROFILE_FIELDS}


class Command(BaseCommand):
    help = "Import offline events from a CSV file, with a dry run and a row-by-row report."

    def add_arguments(self, parser):
        parser.add_argument("csv_file", help="Path of a UTF-8 CSV file with a header row.")
        parser.add_argument("--name", default="", help="Event name for rows without one.")
        parser.add_argument("--type", default="offline", help="Event type (default: offline).")
        parser.add_argument("--occurred-at", default="", help="Date for rows without one.")
        parser.add_argument("--dry-run", action="store_true", help="Validate, store nothing.")

    def handle(self, csv_file, name, type, occurred_at, dry_run, **options):
        try:
            with open(csv_file, newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"Cannot read {csv_file}: {error}") from error
        defaults = {"name": name, "type": type, "occurred_at": occurred_at}
        stored = rejected = 0
        for line, row in enumerate(rows, start=2):  # line 1 is the header
            if None in row:
                form, errors = None, {"row": ["More cells than columns in the header."]}
            else:
                form, errors = validate_record(EventRecordForm, self.record(row, defaults))
            if errors:
                rejected += 1
                for field, messages in errors.items():
                    self.stderr.write(f"line {line}: {field}: {' '.join(messages)}")
                continue
            if not dry_run:
                form.save(via="import")
            stored += 1
        verb = "valid (dry run, nothing stored)" if dry_run else "imported"
        self.stdout.write(f"{stored} rows {verb}, {rejected} rejected.")
        if rejected:
            raise CommandError(f"{rejected} of {len(rows)} rows were rejected.", returncode=1)

    @staticmethod
    def record(row, defaults):
        record = {key: value for key, value in defaults.items() if value}
        properties = {}
        for column, value in row.items():
            column = column.strip()
            value = (value or "").strip()
            if column in RECORD_COLUMNS:
                if value:
                    record[column] = value
            elif value:
                properties[column] = value
        if properties:
            record["properties"] = properties
        return record
