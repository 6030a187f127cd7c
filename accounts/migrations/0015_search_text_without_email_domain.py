"""search_text drops the email's domain (accounts.models.account_search_text): rewritten
for every account with the rule as it stands here. On PostgreSQL by one UPDATE (its SQL
twin, held equal to the Python rule by tests/bulkactions/test_commit_sql.py); elsewhere in
Python, in batches."""

import unicodedata

from django.db import migrations

BATCH = 2000
# account_search_text_sql over the columns, with the email whole or without its domain.
FOLD = (
    r"btrim(regexp_replace(lower(regexp_replace(normalize(concat_ws(' ', "
    r"nullif(first_name, ''), nullif(last_name, ''), nullif(username, ''), "
    r"nullif({email}, ''), nullif(sis_id, '')), NFKD), '[^\u0001-\u007f]', '', 'g')), "
    r"'[ \t\n\u000b\f\r\u001c-\u001f]+', ' ', 'g'), ' ')"
)
LOCAL_PART = "regexp_replace(email, '@[^@]*$', '')"


def _search_text(*parts: str) -> str:
    joined = " ".join(part for part in parts if part)
    folded = unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode()
    return " ".join(folded.lower().split())


def _rewrite(apps, schema_editor, *, domain: bool):
    if schema_editor.connection.vendor == "postgresql":
        text = FOLD.format(email="email" if domain else LOCAL_PART)
        schema_editor.execute(
            f"UPDATE accounts_user SET search_text = {text} "  # noqa: S608 - no input
            f"WHERE search_text IS DISTINCT FROM {text}"
        )
        return
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
    _rewrite(apps, schema_editor, domain=False)


def with_domain(apps, schema_editor):
    _rewrite(apps, schema_editor, domain=True)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0014_fewer_indexes_for_bulk_writes")]

    operations = [migrations.RunPython(without_domain, with_domain)]
