"""search_text drops the email's domain (accounts.models.account_search_text): rewritten
for every account, in batches, with the rule as it stands in this migration."""

import unicodedata

from django.db import migrations

BATCH = 2000


def _search_text(*parts: str) -> str:
    joined = " ".join(part for part in parts if part)
    folded = unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode()
    return " ".join(folded.lower().split())


def _rewrite(apps, *, domain: bool):
    User = apps.get_model("accounts", "User")
    changed = []
    rows = User.objects.only("first_name", "last_name", "username", "email", "sis_id", "search_text")
    for user in rows.order_by("pk").iterator(chunk_size=BATCH):
        text = _search_text(
            user.first_name,
            user.last_name,
            user.username,
            user.email if domain else user.email.rsplit("@", 1)[0],
            user.sis_id,
        )
        if text != user.search_text:
            user.search_text = text
            changed.append(user)
        if len(changed) >= BATCH:
            User.objects.bulk_update(changed, ["search_text"])
            changed = []
    User.objects.bulk_update(changed, ["search_text"])


def without_domain(apps, schema_editor):
    _rewrite(apps, domain=False)


def with_domain(apps, schema_editor):
    _rewrite(apps, domain=True)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0014_fewer_indexes_for_bulk_writes")]

    operations = [migrations.RunPython(without_domain, with_domain)]
