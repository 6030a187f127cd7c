"""What the PostgreSQL benchmarks share: each gets a database of its own, created on
first use (the bench scripts run as `python bench/<name>.py`, so this folder is on the path)."""

from urllib.parse import unquote, urlsplit


def create_database_if_missing(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise SystemExit(f"DATABASE_URL names no database: {url}")
    params = {
        "dbname": "postgres",
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
    }
    if parts.password:
        params["password"] = unquote(parts.password)
    with psycopg.connect(**params, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def postgres_url(default: str, script: str) -> str:
    """DATABASE_URL (set to `default` when unset), refused unless it names PostgreSQL."""
    import os

    url = os.environ.setdefault("DATABASE_URL", default)
    scheme = urlsplit(url).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "psql"}:
        raise SystemExit(
            f"{script} measures PostgreSQL; DATABASE_URL is {scheme}://... Unset it "
            f"to use {default}, or point it at a PostgreSQL database (created if "
            "missing). The bench empties that database: give it one of its own."
        )
    return url


def maxrss_mb() -> float:
    """This process's peak resident memory."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> bool:
    """Resets this process's peak RSS (ru_maxrss) to its current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def empty_database(slug: str) -> None:
    """TRUNCATE of every tenant table: a clean state whatever the previous run left, fast
    even after 100,000+ users. Refuses a database holding districts other than the bench's
    own (slugs starting with `slug`)."""
    from django.db import connection
    from django_scopes import scopes_disabled

    from schools.models import District

    with scopes_disabled():
        others = list(
            District.objects.exclude(slug__startswith=slug).values_list("slug", flat=True)[:3]
        )
    if others:
        raise SystemExit(
            f"the database {connection.settings_dict['NAME']} holds other districts "
            f"({', '.join(others)}): the bench empties its database, give it one of its own"
        )
    with connection.cursor() as cursor:
        # Audit events and bulk action items have no foreign key constraints to cascade by.
        cursor.execute(
            "TRUNCATE schools_district, accounts_user, accounts_auditevent, "
            "bulkactions_bulkactionitem CASCADE"
        )
