"""The Wagtail admin of leadscore; ``wagtail_hooks.py`` registers what is here."""
