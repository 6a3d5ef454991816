"""Shadow tables for a full rebuild on PostgreSQL.

Replacing millions of ledger lines in place means deleting every old row (dead tuples,
WAL) and updating four indexes per new row. A full rebuild instead fills empty copies of
the score tables, builds their indexes once, and swaps them in within one short
transaction: the old tables are dropped and the copies take their names, and the names of
their indexes and constraints, so the schema stays what Django's migrations made.
"""

import re
import sys

CREATE_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ ")
LOCK_NAME = "wagtail_leadscore.rebuild"  # a session advisory lock: one rebuild at a time
SWAP_LOCK_TIMEOUT = "5s"


class RebuildRunning(RuntimeError):
    pass


class ShadowTables:
    """Empty copies (``<table>_rebuild``) of ``models``' tables; use as a context manager:
    the copies are dropped if they were not swapped in."""

    def __init__(self, connection, models):
        self.connection = connection
        self.quote = connection.ops.quote_name
        self.tables = {model: model._meta.db_table for model in models}
        self.names = {model: f"{table}_rebuild" for model, table in self.tables.items()}
        self.renames = []  # (kind, model, temporary name, final name), applied by swap()

    @staticmethod
    def usable(connection, models):
        """Only where a copy can replace its table unnoticed: no foreign key from or to
        the tables, tables owned by this user with no grants to others (a copy has neither),
        a user who may create tables, a direct connection (behind a pooler, the advisory
        lock could be taken and released on different server connections)."""
        tables = [model._meta.db_table for model in models]
        if connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS") or any(
                len(f"{table}_rebuild") > 63 for table in tables):
            return False
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT NOT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' "
                "AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[]))) "
                "AND has_schema_privilege(current_schema(), 'CREATE') "
                "AND (SELECT bool_and(relowner = (SELECT oid FROM pg_roles WHERE rolname = "
                "current_user) AND relacl IS NULL) FROM pg_class "
                "WHERE oid = ANY(%s::regclass[]))", [tables] * 3)
            return cursor.fetchone()[0]

    def __enter__(self):
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [LOCK_NAME])
            if not cursor.fetchone()[0]:
                raise RebuildRunning("Another score rebuild is running on this database.")
        try:
            with self.connection.cursor() as cursor:
                for model, table in self.tables.items():
                    shadow = self.quote(self.names[model])
                    cursor.execute(f"DROP TABLE IF EXISTS {shadow}")  # left by a failed run
                    cursor.execute(f"CREATE TABLE {shadow} (LIKE {self.quote(table)} INCLUDING "
                                   "DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS)")
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc_info):
        try:
            if exc_info[0] is not None:
                with self.connection.cursor() as cursor:
                    for shadow in self.names.values():
                        cursor.execute(f"DROP TABLE IF EXISTS {self.quote(shadow)}")
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [LOCK_NAME])

    def build_indexes(self):
        """The live tables' indexes and primary / unique constraints, on the copies, under
        temporary names; then fresh planner statistics."""
        with self.connection.cursor() as cursor:
            for model, table in self.tables.items():
                shadow = self.quote(self.names[model])
                cursor.execute(
                    "SELECT i.relname, pg_get_indexdef(x.indexrelid), c.conname, c.contype "
                    "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                    "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid "
                    "AND c.conrelid = x.indrelid WHERE x.indrelid = %s::regclass "
                    "ORDER BY i.relname", [table])
                for number, (index, definition, constraint, kind) in enumerate(
                        cursor.fetchall()):
                    temporary = f"{self.names[model]}_{number}"
                    head = CREATE_INDEX.match(definition)  # the rest: USING, columns, WHERE
                    cursor.execute(f"CREATE {head.group(1) or ''}INDEX {self.quote(temporary)} "
                                   f"ON {shadow} {definition[head.end():]}")
                    if constraint:
                        keyword = "PRIMARY KEY" if kind == "p" else "UNIQUE"
                        cursor.execute(f"ALTER TABLE {shadow} ADD CONSTRAINT "
                                       f"{self.quote(temporary)} {keyword} USING INDEX "
                                       f"{self.quote(temporary)}")
                        self.renames.append(("CONSTRAINT", model, temporary, constraint))
                    else:
                        self.renames.append(("INDEX", model, temporary, index))
                cursor.execute(f"ANALYZE {shadow}")

    def swap(self):
        """Within the caller's transaction: drop the live tables and give their names to
        the copies. Live writes wait for the lock until the caller commits."""
        quote = self.quote
        with self.connection.cursor() as cursor:
            # Live writes queue behind a waiting lock: rather fail than make them wait long.
            cursor.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
            # In the order live scoring writes them (counters first): no deadlock with it.
            cursor.execute("LOCK TABLE " + ", ".join(map(quote, self.tables.values()))
                           + " IN ACCESS EXCLUSIVE MODE")
            for model, table in self.tables.items():
                cursor.execute("SELECT relname FROM pg_class WHERE oid = "
                               "pg_get_serial_sequence(%s, 'id')::regclass", [table])
                (sequence,) = cursor.fetchone()
                cursor.execute(f"DROP TABLE {quote(table)}")
                cursor.execute(f"ALTER TABLE {quote(self.names[model])} RENAME TO {quote(table)}")
                cursor.execute(f"ALTER SEQUENCE {quote(f'{self.names[model]}_id_seq')} "
                               f"RENAME TO {quote(sequence)}")
            for kind, model, temporary, final in self.renames:
                if kind == "CONSTRAINT":
                    cursor.execute(f"ALTER TABLE {quote(self.tables[model])} RENAME CONSTRAINT "
                                   f"{quote(temporary)} TO {quote(final)}")
                else:
                    cursor.execute(f"ALTER INDEX {quote(temporary)} RENAME TO {quote(final)}")
