"""Import offline events (e.g. trade-fair attendees) from a CSV file.

The header row names the columns, in any case, surrounding spaces ignored: ``email``
(required), ``occurred_at``, ``name``, ``type``, ``path``, ``id``, any Contact profile
field (first_name, company, phone, ...); every other column becomes a property.
The delimiter (``,``, ``;`` or tab) is detected unless ``--delimiter`` gives it; the
encoding is UTF-8, with or without a BOM, unless ``--encoding`` gives another.

Each row is stored on its own: bad rows are reported by line number, the others imported.
A row with an ``id`` or a date that was imported before is skipped, so importing a file
again adds nothing. The exit status is 1 if any row was rejected.
"""

import argparse
import csv
import io
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from ...ingest import EventRecordForm, validate_record
from ...models import Contact

RECORD_COLUMNS = {"email", "occurred_at", "name", "type", "path", "id", *Contact.PROFILE_FIELDS}
SNIFF_CHARS = 8192


def delimiter_option(value):
    value = "\t" if value == r"\t" else value
    if len(value) != 1:
        raise argparse.ArgumentTypeError(r"must be one character (\t for a tab)")
    return value


def sniff_delimiter(text):
    """``,``, ``;`` or tab, as csv.Sniffer guesses from the first whole lines; else ``,``."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS:
        sample = sample.rpartition("\n")[0]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def numbered(reader):
    """(line number where the row starts, cells) for each row; a quoted cell may span lines."""
    line = 1
    for cells in reader:
        yield line, cells
        line = reader.line_num + 1


class Command(BaseCommand):
    help = (
        "Import offline events from a CSV file: each row is validated and stored on its own, "
        "bad rows are reported by line number, rows imported before (those with an id or a "
        "date) are skipped. "
        "Exit status 1 if any row was rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv_file", help="Path of a CSV file with a header row.")
        parser.add_argument("--name", default="", help="Event name for rows without one.")
        parser.add_argument("--type", default="offline", help="Event type (default: offline).")
        parser.add_argument("--occurred-at", default="", help="Date for rows without one.")
        parser.add_argument("--dry-run", action="store_true", help="Validate, store nothing.")
        parser.add_argument(
            "--delimiter",
            type=delimiter_option,
            help=r"Column delimiter, one character (\t for a tab); default: detected among "
            "comma, semicolon and tab.",
        )
        parser.add_argument(
            "--encoding",
            default="utf-8-sig",
            help="File encoding (default: utf-8-sig, UTF-8 with or without a BOM); "
            "e.g. cp1250 for Excel exports from Polish Windows.",
        )

    def handle(self, csv_file, name, type, occurred_at, dry_run, delimiter, encoding, **options):
        self.verbosity = options["verbosity"]
        columns, rows = self.read(csv_file, encoding, delimiter)
        defaults = {"name": name, "type": type, "occurred_at": occurred_at}
        outcomes = Counter(
            self.import_row(line, cells, columns, defaults, dry_run) for line, cells in rows
        )
        ok, skipped, rejected = outcomes["ok"], outcomes["skipped"], outcomes["rejected"]
        if dry_run:
            self.stdout.write(f"{ok} rows valid (dry run, nothing stored), {rejected} rejected.")
        else:
            self.stdout.write(
                f"{ok} rows imported, {skipped} already imported, {rejected} rejected."
            )
        if rejected:
            raise CommandError(f"{rejected} of {len(rows)} rows were rejected.", returncode=1)

    @staticmethod
    def read(csv_file, encoding, delimiter):
        """The column names (stripped) and the (line number, cells) of each non-blank row."""
        try:
            with open(csv_file, newline="", encoding=encoding) as handle:
                text = handle.read()
        except LookupError as error:
            raise CommandError(f"Unknown encoding: {encoding}") from error
        except UnicodeDecodeError as error:
            raise CommandError(
                f"Cannot decode {csv_file} as {encoding}. Excel on Polish Windows saves "
                "cp1250: try --encoding cp1250 (or the file's actual encoding)."
            ) from error
        except OSError as error:
            raise CommandError(f"Cannot read {csv_file}: {error}") from error
        delimiter = delimiter or sniff_delimiter(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            rows = [
                (line, cells)
                for line, cells in numbered(reader)
                if any(cell.strip() for cell in cells)
            ]
        except csv.Error as error:
            raise CommandError(
                f"Cannot read {csv_file}: line {reader.line_num}: {error}"
            ) from error
        if len(rows) < 2:
            raise CommandError(f"{csv_file}: no rows to import.")
        (_, header), *rows = rows
        columns = [column.strip() for column in header]
        keys = [column.lower() for column in columns]
        if "email" not in keys:
            raise CommandError(
                f"{csv_file} has no email column. Columns found (delimiter {delimiter!r}): "
                + ", ".join(map(repr, columns))
            )
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise CommandError(
                f"{csv_file} has duplicate columns (case and spaces ignored): "
                + ", ".join(map(repr, duplicates))
            )
        return columns, rows

    def import_row(self, line, cells, columns, defaults, dry_run):
        """Validate and store one row; "ok", "skipped" (imported before) or "rejected"."""
        if len(cells) > len(columns):
            return self.reject(line, "row: More cells than columns in the header.")
        record = self.record(dict(zip(columns, cells, strict=False)), defaults)
        form, errors = validate_record(EventRecordForm, record)
        if errors:
            return self.reject(
                line, *(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
            )
        if dry_run:
            return "ok"
        try:
            with transaction.atomic():
                event = form.save(via="import")
        except DatabaseError as error:
            return self.reject(line, str(error))
        if event is None:
            if self.verbosity >= 2:
                self.stdout.write(f"line {line}: already imported, skipped")
            return "skipped"
        return "ok"

    def reject(self, line, *messages):
        for message in messages:
            self.stderr.write(f"line {line}: {message}")
        return "rejected"

    @staticmethod
    def record(row, defaults):
        record = {key: value for key, value in defaults.items() if value}
        properties = {}
        for column, value in row.items():
            value = value.strip()
            if not value:
                continue
            if column.lower() in RECORD_COLUMNS:
                record[column.lower()] = value
            else:
                properties[column] = value
        if properties:
            record["properties"] = properties
        return record
