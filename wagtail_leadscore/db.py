"""Database helpers shared by the write paths."""

from contextlib import nullcontext

from django.db import DEFAULT_DB_ALIAS, connections, transaction


def savepoint_if_in_transaction(using=DEFAULT_DB_ALIAS):
    """A savepoint inside the caller's transaction (e.g. ATOMIC_REQUESTS), else nothing.

    In autocommit a failed statement leaves nothing to undo, and skipping BEGIN / COMMIT
    keeps the tracking hot path at one round trip per write.
    """
    if connections[using].in_atomic_block:
        return transaction.atomic(using=using)
    return nullcontext()
