"""Per-process caches of what the hot path reads on every event (rules, webhooks)."""

import time

from .conf import get_setting


class ProcessCache:
    """``load()``'s value, kept in this process: loaded again after ``clear()`` (an edit
    here: connect it to the model's signals) or after SCORING_CACHE_SECONDS (an edit made
    by another process)."""

    def __init__(self, load):
        self._load = load
        self._value = None
        self._loaded_at = 0.0

    def get(self):
        max_age = get_setting("SCORING_CACHE_SECONDS")
        if self._value is None or time.monotonic() - self._loaded_at >= max_age:
            self._value = self._load()
            self._loaded_at = time.monotonic()
        return self._value

    def clear(self, **kwargs):
        self._value = None
