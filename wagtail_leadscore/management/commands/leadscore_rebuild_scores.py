"""Recompute every score from the event log (after changing rules, tagging or the window)."""

import time

from django.core.management.base import BaseCommand, CommandError

from ...lifecycle.transitions import qualify_candidates
from ...scoring.fit import recompute_all_fit
from ...scoring.rebuild import rebuild_scores
from ...scoring.shadow import RebuildRunning


class Command(BaseCommand):
    help = ("Replay the event log through the current pages, scoring rules and time window: "
            "replaces every ledger line, score and counter, recomputes fit, and makes the "
            "contacts that now meet the lead definition leads.")

    def handle(self, *args, **options):
        started = time.monotonic()

        def progress(owners, events, lines):
            if options["verbosity"] > 1:
                self.stdout.write(f"  {owners} owners, {events} events, {lines} ledger lines")

        try:
            owners, events, lines = rebuild_scores(progress)
        except RebuildRunning as error:
            raise CommandError(str(error)) from error
        fit_changed = recompute_all_fit()
        new_leads = qualify_candidates()
        self.stdout.write(self.style.SUCCESS(
            f"Rebuilt the scores of {owners} contacts and visitors from {events} events "
            f"({lines} ledger lines) in {time.monotonic() - started:.1f} s; "
            f"fit changed for {fit_changed} contacts; {new_leads} new leads."))
