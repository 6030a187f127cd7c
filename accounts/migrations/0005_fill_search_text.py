"""Fills User.search_text for accounts created before the column existed."""

import unicodedata

from django.db import migrations


def fold(*parts):
    joined = " ".join(part for part in parts if part)
    folded = unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode()
    return " ".join(folded.lower().split())


def fill(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    batch = []
    for user in User.objects.filter(search_text="").iterator(chunk_size=2000):
        user.search_text = fold(
            user.first_name, user.last_name, user.username, user.email, user.sis_id
        )
        batch.append(user)
        if len(batch) == 2000:
            User.objects.bulk_update(batch, ["search_text"])
            batch = []
    User.objects.bulk_update(batch, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_search_trigram")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
