"""CSV import of offline events: good rows kept, bad rows reported, re-runs add nothing."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.utils import timezone

from wagtail_leadscore import ingest
from wagtail_leadscore.models import Contact, Event

pytestmark = pytest.mark.django_db

CSV = '''email,first_name,company,occurred_at,booth,note
anna@example.com,Anna,Acme,2026-10-14,B12,wants a quote
not-an-email,Bob,,2026-10-14,B12,
ewa@example.com,Ewa,,14/10/2026,B3,
jan@example.com,Jan,Timber,2026-10-15 11:00,,"said ""call me"""
'''


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "budma.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def run(path, *args):
    return call_command("leadscore_import_events", str(path), "--name", "Budma 2027", *args)


def test_good_rows_kept_bad_rows_reported(csv_file, capsys):
    with pytest.raises(CommandError) as error:
        run(csv_file)
    assert error.value.returncode == 1
    out, err = capsys.readouterr()
    assert "line 3: email: Enter a valid email address." in err
    assert "line 4: occurred_at: Enter a valid date/time." in err
    assert "2 rows imported, 0 already imported, 2 rejected." in out
    events = Event.objects.filter(type="offline", name="Budma 2027")
    assert sorted(events.values_list("contact__email", flat=True)) == \
        ["anna@example.com", "jan@example.com"]
    anna = events.get(contact__email="anna@example.com")
    assert anna.properties == {"booth": "B12", "note": "wants a quote"}
    assert Contact.objects.get(email="anna@example.com").company == "Acme"
    assert events.get(contact__email="jan@example.com").properties == {"note": 'said "call me"'}


def test_reimport_adds_nothing(csv_file, capsys):
    with pytest.raises(CommandError):
        run(csv_file)
    events = Event.objects.count()  # the offline events and the contacts' identify events
    capsys.readouterr()
    with pytest.raises(CommandError):
        run(csv_file, "--verbosity", "2")
    out = capsys.readouterr().out
    assert "0 rows imported, 2 already imported, 2 rejected." in out
    assert "line 2: already imported, skipped" in out
    assert "line 5: already imported, skipped" in out
    assert Event.objects.count() == events
    with pytest.raises(CommandError):
        run(csv_file)
    assert "already imported, skipped" not in capsys.readouterr().out  # verbosity 1


def test_dry_run_stores_nothing(csv_file, capsys):
    with pytest.raises(CommandError):
        run(csv_file, "--dry-run")
    assert "2 rows valid (dry run, nothing stored), 2 rejected." in capsys.readouterr().out
    assert not Event.objects.exists() and not Contact.objects.exists()


def test_clean_file_exits_zero(tmp_path, capsys):
    path = tmp_path / "ok.csv"
    path.write_text("email,occurred_at,name\nola@example.com,2026-10-14,Budma\n")
    call_command("leadscore_import_events", str(path))
    assert Event.objects.get(type="offline").name == "Budma"


def test_row_with_extra_cells_and_missing_file(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("email,name\nola@example.com,Budma,extra\n")
    with pytest.raises(CommandError):
        call_command("leadscore_import_events", str(path))
    assert "line 2: row: More cells than columns in the header." in capsys.readouterr().err
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("leadscore_import_events", str(tmp_path / "missing.csv"))


def write(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "import.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_header_case_and_spaces_ignored(tmp_path):
    text = " EMAIL ,First_Name,Occurred_At , Booth \nola@example.com,Ola,2026-10-14,B3\n"
    call_command("leadscore_import_events", str(write(tmp_path, text)))
    event = Event.objects.get(type="offline")
    assert event.contact.first_name == "Ola"
    assert timezone.localdate(event.occurred_at).isoformat() == "2026-10-14"
    assert event.properties == {"Booth": "B3"}


def test_header_without_email_column(tmp_path):
    path = write(tmp_path, "e-mail,Name\nola@example.com,Budma\n")
    with pytest.raises(CommandError, match="no email column.*'e-mail', 'Name'"):
        call_command("leadscore_import_events", str(path))
    assert not Event.objects.filter(type="offline").exists()


def test_duplicate_columns(tmp_path):
    path = write(tmp_path, "Email,name, email ,booth,Booth\nola@example.com,Budma,,B3,B4\n")
    with pytest.raises(CommandError, match="duplicate columns.*'booth', 'email'"):
        call_command("leadscore_import_events", str(path))
    assert not Event.objects.filter(type="offline").exists()


@pytest.mark.parametrize("text", ["", "\n\n", "email,name\n", "email;name\r\n;\r\n"])
def test_file_without_rows(tmp_path, text):
    with pytest.raises(CommandError, match="no rows") as error:
        call_command("leadscore_import_events", str(write(tmp_path, text)))
    assert error.value.returncode == 1


def test_line_numbers_count_blank_lines_and_multiline_cells(tmp_path, capsys):
    path = write(
        tmp_path,
        'email,note\n\nola@example.com,"two\nlines"\n,,\nnot-an-email,\n',
    )
    with pytest.raises(CommandError):
        call_command("leadscore_import_events", str(path))
    out, err = capsys.readouterr()
    assert err.strip() == "line 6: email: Enter a valid email address."
    assert "1 rows imported, 0 already imported, 1 rejected." in out
    assert Event.objects.get(type="offline").properties == {"note": "two\nlines"}


SEMICOLON_CSV = "email;first_name;company;note\nola@example.com;Ola;Acme, Inc.;price 12,50\n"


def test_semicolon_delimiter_sniffed(tmp_path):
    call_command("leadscore_import_events", str(write(tmp_path, SEMICOLON_CSV)))
    event = Event.objects.get(type="offline")
    assert event.contact.company == "Acme, Inc."
    assert event.properties == {"note": "price 12,50"}


def test_delimiter_option_overrides_sniffing(tmp_path):
    path = write(tmp_path, "email|company\nola@example.com|Acme\n")
    with pytest.raises(CommandError, match="no email column"):
        call_command("leadscore_import_events", str(path))  # | is never sniffed
    call_command("leadscore_import_events", str(path), "--delimiter", "|")
    assert Contact.objects.get(email="ola@example.com").company == "Acme"
    tabs = write(tmp_path, "email\tcompany\nola@example.com\tTimber\n")
    call_command("leadscore_import_events", str(tabs), "--delimiter", r"\t")
    assert Contact.objects.get(email="ola@example.com").company == "Timber"
    with pytest.raises(CommandError, match="one character"):
        call_command("leadscore_import_events", str(path), "--delimiter", ";;")


def test_utf8_bom(tmp_path):
    path = write(tmp_path, "email,first_name\nola@example.com,Oleńka\n", encoding="utf-8-sig")
    call_command("leadscore_import_events", str(path))
    assert Contact.objects.get(email="ola@example.com").first_name == "Oleńka"


def test_cp1250_excel_export(tmp_path, capsys):
    """Excel on Polish Windows: cp1250, semicolons, CRLF."""
    text = "Email;First_Name;Company;Note\r\nlucja@example.com;Łucja;Zakład Żółć;Gęś\r\n"
    path = write(tmp_path, text, encoding="cp1250")
    with pytest.raises(CommandError, match="as utf-8-sig.*--encoding cp1250"):
        call_command("leadscore_import_events", str(path))
    assert not Contact.objects.filter(email="lucja@example.com").exists()
    call_command("leadscore_import_events", str(path), "--encoding", "cp1250")
    event = Event.objects.get(type="offline")
    assert (event.contact.first_name, event.contact.company) == ("Łucja", "Zakład Żółć")
    assert event.properties == {"Note": "Gęś"}
    with pytest.raises(CommandError, match="Unknown encoding"):
        call_command("leadscore_import_events", str(path), "--encoding", "cp9999")


def test_database_error_rejects_only_that_row(csv_file, monkeypatch, capsys):
    record_event = ingest.record_event_or_defer

    def failing_for_jan(type, **fields):
        if fields["contact"].email == "jan@example.com":
            raise DatabaseError("disk I/O error")
        return record_event(type, **fields)

    monkeypatch.setattr(ingest, "record_event_or_defer", failing_for_jan)
    with pytest.raises(CommandError) as error:
        run(csv_file)
    assert error.value.returncode == 1
    out, err = capsys.readouterr()
    assert "line 5: disk I/O error" in err
    assert "1 rows imported, 0 already imported, 3 rejected." in out
    assert Event.objects.filter(type="offline").get().contact.email == "anna@example.com"
    assert not Contact.objects.filter(email="jan@example.com").exists()  # nothing half-written


def test_dates_outside_the_sane_range_are_rejected_by_line(tmp_path, capsys):
    path = write(tmp_path, "email,occurred_at\nola@example.com,0001-01-01T00:00:00+14:00\n"
                           "ewa@example.com,2026-10-14\njan@example.com,9999-12-31\n")
    with pytest.raises(CommandError):
        call_command("leadscore_import_events", str(path))
    out, err = capsys.readouterr()
    message = "occurred_at: Must be between 1970-01-01 and one day from now."
    assert err.splitlines() == [f"line 2: {message}", f"line 4: {message}"]
    assert "1 rows imported, 0 already imported, 2 rejected." in out
    assert list(Event.objects.filter(type="offline").values_list("contact__email", flat=True)
                ) == ["ewa@example.com"]
