"""The membership table's own single-column indexes go: (user, school) is unique, and
(school, user) serves the school filter (migration 0009), so each only cost every write of
a membership, 100,000 of them in an import. Plain SQL: the table is auto-created."""

from django.db import migrations

from accounts.migrations._membership_indexes import SINGLE


class Migration(migrations.Migration):
    dependencies = [("accounts", "0015_search_text_without_email_domain")]

    operations = [
        migrations.RunSQL(
            f"DROP INDEX IF EXISTS {name}",
            f"CREATE INDEX IF NOT EXISTS {name} ON accounts_user_schools ({column})",
        )
        for name, column in SINGLE.items()
    ]
