"""Time: a window (points older than N days stop counting) and/or a decay (halve every N
days). Scores are aged by a daily django-q2 schedule; thresholds read the aged score."""

from datetime import UTC

from django.db import transaction
from django.utils import timezone

from ..conf import get_setting
from .models import STAGE, Score, ScoreCounter, ScoreEntry
from .store import connection_for

EXPIRE_BATCH = 10_000


def current_day():
    return timezone.now().date().toordinal()  # USE_TZ: now() is UTC


def event_day(occurred_at):
    return occurred_at.astimezone(UTC).date().toordinal()


def is_counted(day, today):
    window = get_setting("SCORE_WINDOW_DAYS")
    return window is None or day > today - window


def aged_points(points, day, today):
    half_life = get_setting("SCORE_HALF_LIFE_DAYS")
    if not half_life or day >= today:
        return points
    return round(points * 0.5 ** ((today - day) / half_life))


def age_scores(today=None):
    """Expire the ledger lines that left the window, subtracting them from the scores, then
    (with a half-life) recompute decayed scores; delete expired period counters.

    Expiry is exact and safe alongside live traffic: each line is flagged and subtracted
    once, in one transaction per batch, with atomic decrements. Returns lines expired."""
    today = current_day() if today is None else today
    expired = 0
    window = get_setting("SCORE_WINDOW_DAYS")
    if window is not None:
        while batch := _expire_batch(today - window):
            expired += batch
    if get_setting("SCORE_HALF_LIFE_DAYS"):
        recompute_decayed_scores(today)
    ScoreCounter.objects.filter(expires_day__lte=today).delete()
    return expired


def _expire_batch(last_expired_day):
    with transaction.atomic(using=connection_for(ScoreEntry).alias):
        ids = list(ScoreEntry.objects.filter(counted=True, day__lte=last_expired_day)
                   .values_list("pk", flat=True)[:EXPIRE_BATCH])
        if not ids:
            return 0
        lines = ScoreEntry.objects.filter(pk__in=ids, counted=True)
        subtract_from_scores(lines)
        lines.update(counted=False)
    return len(ids)


def subtract_from_scores(lines):
    """Take the points of these (counted) ledger lines off their owners' scores."""
    totals = {}
    for contact_id, visitor_id, dimension, points in lines.values_list(
            "contact_id", "visitor_id", "dimension", "points"):
        key = (contact_id, visitor_id, dimension)
        totals[key] = totals.get(key, 0) + points
    connection = connection_for(Score)
    table = connection.ops.quote_name(Score._meta.db_table)
    with connection.cursor() as cursor:
        for column, index in (("contact_id", 0), ("visitor_id", 1)):
            field = Score._meta.get_field(column.removesuffix("_id"))
            rows = [(points, field.get_db_prep_save(key[index], connection), key[2])
                    for key, points in totals.items() if key[index] is not None]
            if rows:
                cursor.executemany(
                    f"UPDATE {table} SET value = value - %s "
                    f"WHERE {column} = %s AND dimension = %s", rows)


def reset_stage_score(contact_id):
    """A new stage starts its stage score at zero: earlier lines stop counting for it.
    Called with the contact's row locked (``change_stage``)."""
    ScoreEntry.objects.filter(contact_id=contact_id, dimension=STAGE,
                              counted=True).update(counted=False)
    Score.objects.filter(contact_id=contact_id, dimension=STAGE).update(value=0)


def recompute_decayed_scores(today):
    """Decay changes every score every day: each is recomputed from its counted lines."""
    connection = connection_for(Score)
    quote = connection.ops.quote_name
    half_life = float(get_setting("SCORE_HALF_LIFE_DAYS"))
    score, entry = quote(Score._meta.db_table), quote(ScoreEntry._meta.db_table)
    with connection.cursor() as cursor:
        for column in ("contact_id", "visitor_id"):
            cursor.execute(
                f"UPDATE {score} SET value = COALESCE(("
                f"SELECT ROUND(SUM(e.points * POWER(0.5, (%s - e.day) / %s))) FROM {entry} e "
                f"WHERE e.counted AND e.{column} = {score}.{column} "
                f"AND e.dimension = {score}.dimension), 0) WHERE {column} IS NOT NULL",
                [today, half_life],
            )
