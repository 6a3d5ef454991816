"""CSV import of offline events: good rows kept, bad rows reported, re-runs add nothing."""

import pytest
from django.core.management import CommandError, call_command

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
    assert "2 rows imported, 2 rejected." in out
    events = Event.objects.filter(type="offline", name="Budma 2027")
    assert sorted(events.values_list("contact__email", flat=True)) == \
        ["anna@example.com", "jan@example.com"]
    anna = events.get(contact__email="anna@example.com")
    assert anna.properties == {"booth": "B12", "note": "wants a quote"}
    assert Contact.objects.get(email="anna@example.com").company == "Acme"
    assert events.get(contact__email="jan@example.com").properties == {"note": 'said "call me"'}


def test_reimport_adds_nothing(csv_file):
    for _ in range(2):
        with pytest.raises(CommandError):
            run(csv_file)
    assert Event.objects.filter(type="offline").count() == 2


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
