"""Bulk actions on PostgreSQL: change the year group of 10,000 students, then deactivate
10,000 students, against the named baseline "save loop" (each user saved on its own with
its own audit row, as a naive implementation would).

Each workload is `bulk_action_start(..., enqueue=False)` plus `bulk_action_run`: exactly
what the worker's `run_bulk_action` task runs, timed in-process (start and run together:
recording the selection, judging, bulk UPDATEs, per-person items and audit events). The
baseline runs on a 1,000-student slice and is scaled ×10 (it says so). Seeds a district of
its own (`actionbench`, 20,000 students in years 7-13) in a database of its own, emptied
at each run. The last line is machine-readable. Run:
.venv/bin/python bench/bulk_actions.py [--quick], with DATABASE_URL naming a PostgreSQL
database (default postgres://postgres@127.0.0.1:5432/rollbook_bench_actions; created if
missing, then migrated).
"""

import argparse
import gc
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import import_users as shared  # noqa: E402  (the database and Django set-up helpers)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/rollbook_bench_actions"
SLUG = "actionbench"
FULL = {"students": 20_000, "moved": 10_000, "baseline": 1_000}
QUICK = {"students": 2_000, "moved": 1_000, "baseline": 200}
TARGET_SECONDS, TARGET_MB, TARGET_RATIO = 5, 300, 20


def _seed(size: dict):
    """The district, its year groups and students: `moved` in Year 7, `baseline` in Year 9,
    the rest spread over the other years; written with COPY like an import."""
    from django.db import connection, transaction
    from django_scopes import scopes_disabled

    from accounts.models import Role, Status, User
    from bulkactions.importing import bulk
    from schools.models import District, School, YearGroup

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE schools_district, accounts_user CASCADE")
    with scopes_disabled(), transaction.atomic():
        district = District.objects.create(name="Action Bench District", slug=SLUG)
        school = School.objects.create(district=district, name="Bench Academy")
        years = {
            y: YearGroup.objects.create(district=district, ordinal=y, name=f"Year {y}")
            for y in range(7, 14)
        }
        admin = User.objects.create(
            district=district,
            role=Role.DISTRICT_ADMIN,
            first_name="Dana",
            last_name="Admin",
            username="bench.admin",
            email="admin@actionbench.example",
            status=Status.ACTIVE,
        )
        plan = (
            [7] * size["moved"]
            + [9] * size["baseline"]
            + [
                (8, 10, 11, 12, 13)[n % 5]
                for n in range(size["students"] - size["moved"] - size["baseline"])
            ]
        )
        users = []
        for n, year in enumerate(plan):
            user = User(
                district=district,
                role=Role.STUDENT,
                first_name=f"Pupil{n}",
                last_name=f"Bench{n % 977}",
                username=f"pupil{n}",
                email=f"pupil{n}@actionbench.example",
                status=Status.ACTIVE,
                year_group=years[year],
                password="!",
            )
            user.refresh_derived(schools=[school])
            users.append(user)
        bulk.insert(User, users, with_ids=True)
        bulk.insert_values(
            User.schools.through, ["user", "school"], ((u.pk, school.pk) for u in users)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user")
    return district, admin, years


def _timed_action(district, admin, action, params, users) -> tuple[float, object]:
    from bulkactions import services

    gc.collect()
    started = time.perf_counter()
    bulk_action = services.bulk_action_start(
        district=district,
        actor=admin,
        kind="students",
        action=action,
        params=params,
        users=users,
        enqueue=False,
    )
    bulk_action = services.bulk_action_run(bulk_action, bulk_action.run_token)
    return time.perf_counter() - started, bulk_action


def _baseline(admin, years, users) -> float:
    """The save loop: each user saved, and one audit row each."""
    from django.db import transaction

    from accounts import audit

    started = time.perf_counter()
    with transaction.atomic():
        for user in users:
            before = user.year_group.name
            user.year_group = years[10]
            user.save()
            audit.record(
                actor=admin,
                action="accounts.user.updated",
                target=user,
                before={"year_group": before},
                after={"year_group": "Year 10"},
            )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 students per workload")
    options = parser.parse_args()
    size = QUICK if options.quick else FULL
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    url = shared._database_url()
    shared._create_database_if_missing(url)
    shared._setup_env()
    shared._setup_django()

    from django.core.management import call_command
    from django.db import connection
    from django_scopes import scope

    from accounts.models import Role, Status, User

    if connection.vendor != "postgresql":
        raise SystemExit("DATABASE_URL must name PostgreSQL")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average before: {load} on {os.cpu_count()} CPUs (other work skews the figures)")
    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    district, admin, years = _seed(size)
    moved = size["moved"]
    print(f"seeded {size['students']:,} students in {time.perf_counter() - started:.1f} s")

    with scope(district=district):
        chosen = User.objects.filter(district=district, role=Role.STUDENT, year_group=years[7])
        year_s, first = _timed_action(
            district, admin, "year_group", {"year_group": years[8].pk}, chosen
        )
        assert first.changed_count == moved, first.changed_count
        assert User.objects.filter(year_group=years[8], username__lt="pupil9").exists()
        print(
            f"year group: {moved:,} students Year 7 -> Year 8 in {year_s:.2f} s "
            f"= {moved / year_s:,.0f} per s (changed {first.changed_count:,})"
        )
        ids = list(first.items.values_list("user_id", flat=True))
        deactivate_s, second = _timed_action(
            district, admin, "deactivate", {}, User.objects.filter(pk__in=ids)
        )
        assert second.changed_count == moved, second.changed_count
        assert User.objects.filter(pk__in=ids, status=Status.DEACTIVATED).count() == moved
        print(
            f"deactivate: {moved:,} students in {deactivate_s:.2f} s = "
            f"{moved / deactivate_s:,.0f} per s (sessions ended, links voided, audited)"
        )
        slice_users = list(
            User.objects.filter(district=district, year_group=years[9]).select_related(
                "year_group", "district"
            )
        )
        base_s = _baseline(admin, years, slice_users)
    factor = moved / len(slice_users)
    scaled = base_s * factor
    ratio = scaled / year_s
    peak = shared._maxrss_mb()
    print(
        f"baseline save loop: {len(slice_users):,} students in {base_s:.2f} s, scaled x{factor:g} "
        f"to {moved:,}: {scaled:.1f} s (estimated, not run whole); baseline_ratio {ratio:.1f}"
    )
    print(f"peak memory {peak:.0f} MB (ru_maxrss)")
    verdict = {True: "met", False: "NOT met"}
    print(
        f"targets: year group {year_s:.2f} s <= {TARGET_SECONDS} s {verdict[year_s <= TARGET_SECONDS]}; "
        f"deactivate {deactivate_s:.2f} s {verdict[deactivate_s <= TARGET_SECONDS]}; "
        f"peak {peak:.0f} MB <= {TARGET_MB} {verdict[peak <= TARGET_MB]}; "
        f"ratio {ratio:.1f} >= {TARGET_RATIO} {verdict[ratio >= TARGET_RATIO]}"
    )
    print(
        f"RESULT users={moved} year_group_s={year_s:.2f} deactivate_s={deactivate_s:.2f} "
        f"peak_mb={peak:.0f} baseline_ratio={ratio:.1f}"
    )


if __name__ == "__main__":
    main()
