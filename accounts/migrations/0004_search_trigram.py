"""Substring search on PostgreSQL: a trigram GIN index over User.search_text.
SQLite scans instead (the embedded default serves small districts)."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS accounts_user_search_trgm "
    "ON accounts_user USING gin (search_text gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS accounts_user_search_trgm"]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_lists_and_reminders")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
