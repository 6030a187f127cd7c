"""Status counts of filtered lists as index-only scans: one index per filter on the user,
ending in status, and (school, user) on the membership table for the school filter's join."""

from django.db import migrations, models

MEMBERSHIP_INDEX = "accounts_user_schools_school_user"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_year_ordinal"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("schools", "0002_lists_and_reminders"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="user",
            index=models.Index(
                fields=["district", "role", "year_group", "status"],
                name="accounts_us_distric_5c8ca7_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(
                fields=["district", "role", "source", "status"],
                name="accounts_us_distric_3f1408_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(
                fields=["district", "role", "case_manager", "status"],
                name="accounts_us_distric_86d9d5_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(
                fields=["district", "role", "id", "status"],
                name="accounts_us_distric_73087e_idx",
            ),
        ),
        # The auto-created membership table takes no Meta indexes: plain SQL, valid on
        # PostgreSQL and SQLite.
        migrations.RunSQL(
            f"CREATE INDEX {MEMBERSHIP_INDEX} ON accounts_user_schools (school_id, user_id)",
            f"DROP INDEX {MEMBERSHIP_INDEX}",
        ),
    ]
