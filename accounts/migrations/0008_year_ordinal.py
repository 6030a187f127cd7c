"""User.year_ordinal: the year group's ordinal copied onto the user, so lists sort by year
through an index instead of ranking every row by its year group."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    YearGroup = apps.get_model("schools", "YearGroup")
    ordinal = YearGroup.objects.filter(pk=OuterRef("year_group_id")).values("ordinal")[:1]
    User.objects.filter(year_group__isnull=False).update(year_ordinal=Subquery(ordinal))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_list_sort_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("schools", "0002_lists_and_reminders"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="year_ordinal",
            field=models.SmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(
                fields=["district", "role", "year_ordinal", "last_name", "id"],
                name="accounts_us_distric_4f509d_idx",
            ),
        ),
    ]
