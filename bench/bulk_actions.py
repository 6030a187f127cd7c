"""Bulk actions on PostgreSQL: change the year group of 10,000 students, then deactivate the
same 10,000, against the named baseline "save loop" (one save() and one audit row per user).

Each workload runs in this process exactly what the Celery task
bulkactions.tasks.run_bulk_action runs on the worker, so its figures are "on the worker": the
task loads the action (select_related district and creator) inside the district's scope and
calls bulk_action_run, whose batched runner is bulkactions.operations.run.action_run (batches of
2,000 items, one transaction each: lock and judge the accounts, one bulk UPDATE per new value,
the items' outcome/before/after, the audit events by COPY). The seconds reported time
bulk_action_start(..., enqueue=False) (the selection read, the action and its 10,000 items
recorded, as the wizard's last step does) plus that run, together; the split is printed too.
DEBUG is off (no query log); the "summary email" task the finished run queues is replaced by a
recorder, so nothing reaches a Celery broker or a worker. Each workload is checked: changed
count, the accounts really moved or deactivated (count queries), their audit events, status
counts, activation links voided. Its breakdown: statements by shape with their client-side
seconds, the COPYs and COMMITs (deferred foreign key checks), and the rest (Python).

Baseline "save loop": what a naive implementation does, on 1,000 other students (the first
1,000 of Year 9 -> Year 10): load them, then for each `user.year_group = year10; user.save()`
and one `AuditEvent.objects.create(...)`, a plain loop in autocommit as a task body runs it.
Its seconds are scaled x10 to 10,000 students (estimated, not run whole):
baseline_ratio = scaled baseline seconds / year group seconds. For context (not in RESULT),
the same loop inside one transaction (no commit per write, which flatters it) on the next
1,000 Year 9 students.

Each run empties the bench database (TRUNCATE ... CASCADE; it refuses a database holding other
districts) and seeds the district `actionbench` with bulk inserts (bulk_create, batches of
5,000, derived columns filled by refresh_derived): 2 schools, year groups 7-13, 20,000 students
of whom 10,000 in Year 7 (active or invited; the invited have a live activation link), 2,000
more in Year 9 for the baselines and the rest spread over Years 8-13 (shuffled, so the selection
is spread over the table), then VACUUM ANALYZE. Peak memory is ru_maxrss of this process,
reset after seeding where Linux allows it (/proc/self/clear_refs), so it covers the workloads
and the baseline. Another process on this 2-core machine skews the figures: the load average is
printed. --profile runs both workloads under cProfile instead and prints the hotspots and the
queries grouped by shape. --quick: 2,000 students, 1,000 per workload, baseline 200.
A run on this shared 2-core machine can be a third off another (the baseline's commits wait
on the disk), so it measures --runs whole runs (default 3), each seeded afresh, and the RESULT
figures are their medians (the ratio: the median of each run's own ratio).
The last line is machine-readable. Run: .venv/bin/python bench/bulk_actions.py [--quick] [--runs N]
[--profile], with DATABASE_URL naming a PostgreSQL database (default
postgres://postgres@127.0.0.1:5432/rollbook_bench_actions; created if missing, then migrated).
"""

import argparse
import cProfile
import gc
import os
import pstats
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from unittest import mock

from _db import create_database_if_missing, empty_database, postgres_url
from _db import maxrss_mb as _maxrss_mb
from _db import reset_peak as _reset_peak
from _db import rss_mb as _rss_mb

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/rollbook_bench_actions"
SLUG = "actionbench"
SEED = 20250919
BATCH = 5000

FULL = {"students": 20_000, "selected": 10_000, "baseline": 1_000}
QUICK = {"students": 2_000, "selected": 1_000, "baseline": 200}
TARGET_SECONDS = 5  # the targets, for 10,000 students
TARGET_MB = 300
TARGET_RATIO = 20

SCHOOLS = (("Northfield Academy", "NFA"), ("Riverside High School", "RHS"))
YEARS = range(7, 14)
FIRST_NAMES = (
    "Olivia|Muhammad|Amelia|Noah|Isla|Oliver|Ava|George|Ivy|Leo|Freya|Arthur|Lily|Oscar|Mia|"
    "Harry|Sophia|Jack|Zoë|Chloé|Renée|Noémie|Élodie|Inès|Léa|Maël|François|Jérôme|Ana|"
    "Ana Sofía|Lucía|María|José|Sebastián|Andrés|Ramón|Iñaki|Begoña|Raúl|Óscar|Álvaro|Siobhán|"
    "Seán|Niamh|Aoife|Oisín|Ciarán|Björn|Jürgen|Aisha|Fatima|Yusuf|Omar|Priya|Aarav|Wei|Mei|"
    "Hiroshi|Minh|Thảo|Kwame|Chidi|Ngozi|Zsófia|Kateřina|Tomáš|Agnieszka|Mateo|Dara|Émile"
).split("|")
LAST_NAMES = (
    "Smith|Jones|Williams|Taylor|Brown|Davies|Evans|Wilson|Khan|Patel|Thomas|Johnson|Roberts|"
    "Díaz|García|Martínez|Rodríguez|López|González|Hernández|Pérez|Sánchez|Muñoz|Núñez|Peña|"
    "Robinson|Wright|Walker|White|Edwards|Hughes|Green|Hall|Lewis|Harris|Clarke|Ahmed|Ali|"
    "Singh|Kaur|Nguyễn|Trần|Wang|Li|Chen|Tanaka|Müller|Schröder|Dubois|Lefèvre|Côté|O'Brien|"
    "Ó Súilleabháin|Kowalski|Nowak|Dvořák|Horváth|Okafor|Mensah|Santos|Gonçalves|Banerjee"
).split("|")


def _database_url() -> str:
    return postgres_url(DEFAULT_DATABASE_URL, "bench/bulk_actions.py")


def _setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"  # nothing runs in-process by accident
    import django

    django.setup()


def _weights(names: list[str]) -> list[float]:
    return [1 / (rank + 1) ** 0.6 for rank in range(len(names))]  # roughly Zipf


def _code_state() -> str:
    """The commit measured, and uncommitted changes to the code (another agent may be editing
    the same working tree)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
    except OSError:
        return "unknown (no git)"
    changed = [line[3:] for line in dirty if line[3:].endswith(".py")]
    return f"{head}" + (f" + uncommitted changes in {', '.join(changed)}" if changed else "")


# The bench district


def _seed(size: dict) -> dict:
    """The district, its schools and year groups, a district admin (the actor) and the
    students, with bulk inserts; `selected` of them in Year 7, `baseline` in Year 9."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from accounts.models import (
        ActivationToken,
        Role,
        Source,
        Status,
        TokenPurpose,
        User,
        search_text_for,
    )
    from schools.models import District, School, YearGroup

    rng = random.Random(SEED)
    now = timezone.now()
    first_weights, last_weights = _weights(FIRST_NAMES), _weights(LAST_NAMES)
    unusable = make_password(None)
    Membership = User.schools.through

    def clean(text: str) -> str:
        return "".join(c for c in search_text_for(text) if c.isalnum())

    # Year 7: the selection; Year 9: the two baseline slices (plus a share of the others);
    # the rest spread over Years 8-13. Shuffled, so the selection's rows are spread over the
    # table as in a district built up over the years.
    others = size["students"] - size["selected"] - 2 * size["baseline"]
    plan = [7] * size["selected"] + [9] * 2 * size["baseline"]
    plan += [8 + n % 6 for n in range(others)]
    rng.shuffle(plan)
    counts = {"students": 0, "tokens": 0}
    with scopes_disabled(), transaction.atomic():
        district = District.objects.create(name="Action Bench District", slug=SLUG)
        schools = School.objects.bulk_create(
            [School(district=district, name=n, code=c, sis_id=c) for n, c in SCHOOLS]
        )
        years = YearGroup.objects.bulk_create(
            [
                YearGroup(district=district, ordinal=y, name=f"Year {y}", grade_code=f"{y:02d}")
                for y in YEARS
            ]
        )
        for year, following in zip(years, years[1:], strict=False):
            year.next = following
        YearGroup.objects.bulk_update(years[:-1], ["next"])
        by_ordinal = {year.ordinal: year for year in years}
        admin = User(
            district=district,
            role=Role.DISTRICT_ADMIN,
            first_name="Dana",
            last_name="Admin",
            username="bench.admin",
            email=f"admin@{SLUG}.example",
            status=Status.ACTIVE,
            password=unusable,
        )
        admin.refresh_derived(schools=[])
        admin.save()

        for start in range(0, len(plan), BATCH):
            batch = []
            for n in range(start, min(start + BATCH, len(plan))):
                ordinal = plan[n]
                first = rng.choices(FIRST_NAMES, first_weights)[0]
                last = rng.choices(LAST_NAMES, last_weights)[0]
                username = f"{clean(first)}.{clean(last)}{n}"
                if ordinal == 7:  # nobody in the selection is deactivated already
                    status = Status.ACTIVE if rng.random() < 0.8 else Status.INVITED
                else:
                    weights = (70, 25, 5)
                    status = rng.choices(
                        (Status.ACTIVE, Status.INVITED, Status.DEACTIVATED), weights
                    )[0]
                created = now - timedelta(days=rng.uniform(1, 3 * 365))
                student = User(
                    district=district,
                    role=Role.STUDENT,
                    first_name=first,
                    last_name=last,
                    username=username,
                    email=f"{username}@students.{SLUG}.example" if rng.random() < 0.8 else "",
                    status=status,
                    password=unusable,
                    source=Source.IMPORT,
                    sis_id=f"S{n:07d}",
                    year_group=by_ordinal[ordinal],
                    created_at=created,
                    invited_at=created if status == Status.INVITED else None,
                    deactivated_at=now - timedelta(days=30)
                    if status == Status.DEACTIVATED
                    else None,
                    last_login=now - timedelta(days=rng.uniform(0, 60))
                    if status == Status.ACTIVE
                    else None,
                )
                student._bench_school = schools[n % len(schools)]
                student.refresh_derived(schools=[student._bench_school])
                batch.append(student)
            batch = User.objects.bulk_create(batch, batch_size=BATCH)
            Membership.objects.bulk_create(
                [Membership(user_id=s.pk, school_id=s._bench_school.pk) for s in batch],
                batch_size=BATCH,
            )
            tokens = [
                ActivationToken(
                    district=district,
                    user=s,
                    purpose=TokenPurpose.ACTIVATE,
                    token_hash=secrets.token_hex(32),
                    dispatch_key=secrets.token_hex(32),
                    created_at=s.invited_at,
                    expires_at=now + timedelta(days=7),
                    sent_at=s.invited_at,
                    created_by=admin,
                )
                for s in batch
                if s.status == Status.INVITED and s.email
            ]
            ActivationToken.objects.bulk_create(tokens, batch_size=BATCH)
            counts["students"] += len(batch)
            counts["tokens"] += len(tokens)
            del batch, tokens
    # What autovacuum does after bulk inserts, done now: planner statistics, visibility map.
    with connection.cursor() as cursor:
        for table in (
            "accounts_user",
            "accounts_user_schools",
            "accounts_activationtoken",
            "schools_yeargroup",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {
        "district_id": district.pk,
        "admin_id": admin.pk,
        "years": {year.ordinal: year.pk for year in years},
        **counts,
    }


# Measuring


class _Queries:
    """Counts the statements Django executes and their client-side seconds, by shape (the
    first words of the SQL, before its values), and times the COPYs of
    bulkactions.importing.bulk and the COMMITs (which bypass cursor.execute)."""

    def __init__(self):
        self.count, self.seconds = 0, 0.0
        self.shapes: dict[str, list] = {}
        self.copies, self.copy_s = 0, 0.0
        self.commits, self.commit_s = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            self.seconds += spent
            self.count += 1
            entry = self.shapes.setdefault(sql[:100], [0, 0.0])
            entry[0] += 1
            entry[1] += spent

    @contextmanager
    def copies_timed(self):
        from bulkactions.importing import bulk

        real = bulk._copy

        def timed(model, fields, rows):
            started = time.perf_counter()
            try:
                return real(model, fields, rows)
            finally:
                self.copies += 1
                self.copy_s += time.perf_counter() - started
                entry = self.shapes.setdefault(f"COPY {model._meta.db_table}", [0, 0.0])
                entry[0] += 1
                entry[1] += time.perf_counter() - started

        with mock.patch.object(bulk, "_copy", timed):
            yield

    @contextmanager
    def commits_timed(self, connection):
        """COMMITs (deferred foreign key checks run then) do not go through execute()."""
        real = connection._commit

        def timed():
            started = time.perf_counter()
            try:
                return real()
            finally:
                self.commits += 1
                self.commit_s += time.perf_counter() - started
                entry = self.shapes.setdefault("COMMIT", [0, 0.0])
                entry[0] += 1
                entry[1] += time.perf_counter() - started

        with mock.patch.object(connection, "_commit", timed):
            yield

    def top(self, count: int) -> list[tuple[str, int, float]]:
        ranked = sorted(self.shapes.items(), key=lambda item: item[1][1], reverse=True)
        return [(shape, n, seconds) for shape, (n, seconds) in ranked[:count]]


@contextmanager
def _no_broker():
    """The finished run queues its summary email on commit: recorded, never sent."""
    with mock.patch("bulkactions.tasks.send_bulk_action_summary") as summary:
        yield summary


def _run_action(district_id: int, admin_id: int, action: str, params: dict, users_for) -> dict:
    """bulk_action_start (enqueue=False) then what run_bulk_action does, timed together."""
    from django.db import connection
    from django.test import override_settings

    from accounts.models import User
    from bulkactions import services
    from bulkactions.models import BulkAction, ImportKind
    from schools.tenancy import district_scope

    gc.collect()
    queries = _Queries()
    with (
        override_settings(DEBUG=False),
        _no_broker() as summary,
        district_scope(district_id) as district,
        connection.execute_wrapper(queries),
        queries.copies_timed(),
        queries.commits_timed(connection),
    ):
        admin = User.objects.get(pk=admin_id)
        users = users_for(district)
        started = time.perf_counter()
        bulk_action = services.bulk_action_start(
            district=district,
            actor=admin,
            kind=ImportKind.STUDENTS,
            action=action,
            params=params,
            users=users,
            selection=f"bench: {action}",
            enqueue=False,
        )
        recorded = time.perf_counter()
        start_queries = queries.count
        # bulkactions.tasks.run_bulk_action, minus the scope its TenantTask base sets (above).
        bulk_action = (
            BulkAction.objects.select_related("district", "created_by")
            .filter(pk=bulk_action.pk, run_token=bulk_action.run_token)
            .first()
        )
        finished = services.bulk_action_run(bulk_action, bulk_action.run_token)
        done = time.perf_counter()
    return {
        "action": finished,
        "seconds": done - started,
        "start_s": recorded - started,
        "run_s": done - recorded,
        "queries": queries.count,
        "start_queries": start_queries,
        "sql_s": queries.seconds,
        "copies": queries.copies,
        "copy_s": queries.copy_s,
        "commits": queries.commits,
        "commit_s": queries.commit_s,
        "top": queries.top(5),
        "summaries_queued": summary.delay.call_count,
    }


def _baseline(district_id: int, admin_id: int, years: dict, count: int, *, atomic: bool) -> dict:
    """The save loop on `count` Year 9 students (the first by id still there): load them, then
    one save() and one audit row each; in autocommit (each write its own commit, as a plain
    loop in a task body runs) or, with `atomic`, all in one transaction."""
    from django.db import transaction
    from django.test import override_settings

    from accounts import audit
    from accounts.models import AuditEvent, Role, User
    from schools.models import YearGroup
    from schools.tenancy import district_scope

    gc.collect()
    with override_settings(DEBUG=False), district_scope(district_id) as district:
        admin = User.objects.get(pk=admin_id)
        year10 = YearGroup.objects.get(pk=years[10])
        started = time.perf_counter()
        with transaction.atomic() if atomic else nullcontext():
            users = list(
                User.objects.filter(
                    district=district, role=Role.STUDENT, year_group_id=years[9]
                ).order_by("pk")[:count]
            )
            for user in users:
                before = user.year_group_id
                user.year_group = year10
                user.save()
                AuditEvent.objects.create(
                    district=district,
                    actor=admin,
                    actor_label=audit.actor_label(admin),
                    action="accounts.user.updated",
                    target_type="user",
                    target_id=user.pk,
                    target_label=audit.target_label(user),
                    before={"year_group_id": before},
                    after={"year_group_id": year10.pk},
                )
        seconds = time.perf_counter() - started
        moved = User.objects.filter(pk__in=[u.pk for u in users], year_group=year10).count()
    if moved != count:
        raise SystemExit(f"baseline: {moved} of {count} students in Year 10")
    return {"seconds": seconds, "users": count}


def _check_year_group(result: dict, n: int, years: dict) -> str:
    from django.db.models import Count
    from django_scopes import scopes_disabled

    from accounts.models import AuditEvent, User
    from bulkactions.models import BulkActionStatus, ItemOutcome

    action = result["action"]
    with scopes_disabled():
        moved = User.objects.filter(
            pk__in=action.items.values("user_id"), year_group_id=years[8], year_ordinal=8
        ).count()
        left = User.objects.filter(district_id=action.district_id, year_group_id=years[7]).count()
        outcomes = dict(
            action.items.values_list("outcome").annotate(n=Count("pk")).values_list("outcome", "n")
        )
        audited = AuditEvent.objects.filter(
            district_id=action.district_id,
            action="accounts.user.updated",
            after__bulk_action=action.pk,
        ).count()
    problems = []
    if action.status != BulkActionStatus.DONE or action.changed_count != n:
        problems.append(f"status {action.status}, changed {action.changed_count}")
    if moved != n or left:
        problems.append(f"{moved} in Year 8 (year_ordinal 8), {left} left in Year 7")
    if outcomes != {ItemOutcome.CHANGED: n} or audited != n:
        problems.append(f"items {outcomes}, {audited} audit events")
    if problems:
        raise SystemExit(f"year group of {n:,}: " + "; ".join(problems))
    return f"{moved:,} now in Year 8, 0 left in Year 7, {audited:,} audit events"


def _status_counts(district_id: int) -> dict:
    from django.db.models import Count
    from django_scopes import scopes_disabled

    from accounts.models import Role, User

    with scopes_disabled():
        return dict(
            User.objects.filter(district_id=district_id, role=Role.STUDENT)
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )


def _check_deactivate(result: dict, n: int, before: dict, after: dict, live_before: int) -> str:
    from django_scopes import scopes_disabled

    from accounts.models import ActivationToken, AuditEvent, Status, User
    from bulkactions.models import BulkActionStatus

    action = result["action"]
    with scopes_disabled():
        chosen = User.objects.filter(pk__in=action.items.values("user_id"))
        deactivated = chosen.filter(
            status=Status.DEACTIVATED, deactivated_at__isnull=False, session_version__gte=1
        ).count()
        live = ActivationToken.objects.filter(
            user__in=chosen, used_at__isnull=True, voided_at__isnull=True
        ).count()
        audited = AuditEvent.objects.filter(
            district_id=action.district_id,
            action="accounts.user.deactivated",
            after__bulk_action=action.pk,
        ).count()
    problems = []
    if action.status != BulkActionStatus.DONE or action.changed_count != n:
        problems.append(f"status {action.status}, changed {action.changed_count}")
    gained = after.get(Status.DEACTIVATED, 0) - before.get(Status.DEACTIVATED, 0)
    if deactivated != n or gained != n or sum(after.values()) != sum(before.values()):
        problems.append(f"{deactivated} deactivated of the selection; counts {before} -> {after}")
    if live or audited != n:
        problems.append(f"{live} live activation links left, {audited} audit events")
    if problems:
        raise SystemExit(f"deactivate {n:,}: " + "; ".join(problems))
    return (
        f"students by status {before} -> {after}; {live_before:,} activation links voided, "
        f"{audited:,} audit events"
    )


def _live_links(action) -> int:
    """Unused, unvoided activation links of the people a bulk action chose."""
    from django_scopes import scopes_disabled

    from accounts.models import ActivationToken

    with scopes_disabled():
        return ActivationToken.objects.filter(
            user_id__in=action.items.values("user_id"), used_at__isnull=True, voided_at__isnull=True
        ).count()


def _workloads(seeded: dict, n: int) -> tuple[dict, dict]:
    from accounts.models import Role, User

    years = seeded["years"]

    def year7(district):
        return User.objects.filter(district=district, role=Role.STUDENT, year_group_id=years[7])

    first = _run_action(
        seeded["district_id"],
        seeded["admin_id"],
        "year_group",
        {"year_group": years[8]},
        year7,
    )

    def moved(district):  # the same students, now in Year 8
        return User.objects.filter(
            district=district, pk__in=first["action"].items.values("user_id")
        )

    first["check"] = _check_year_group(first, n, years)
    before = _status_counts(seeded["district_id"])
    live = _live_links(first["action"])
    second = _run_action(seeded["district_id"], seeded["admin_id"], "deactivate", {}, moved)
    second["check"] = _check_deactivate(
        second, n, before, _status_counts(seeded["district_id"]), live
    )
    return first, second


# Profile


def _shape(sql: str) -> str:
    """A query without its values: numbers, strings and long lists collapsed."""
    shape = re.sub(r"'(?:[^']|'')*'", "'?'", sql)
    shape = re.sub(r"\b\d+\b", "N", shape)
    shape = re.sub(r"\((?:N|'\?'|%s)(?:, (?:N|'\?'|%s))+\)", "(...)", shape)
    shape = re.sub(
        r"(WHEN .{0,200}? THEN .{0,200}? )(?:WHEN .{0,400}? THEN .{0,200}? )+", r"\1... ", shape
    )
    return shape[:140]


def _profile(seeded: dict, n: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        profiler.enable()
        first, second = _workloads(seeded, n)
        profiler.disable()
    print(
        f"profiled {n:,} students: year group {first['seconds']:.2f} s, deactivate "
        f"{second['seconds']:.2f} s (cProfile and query capture overhead included)"
    )
    dump = Path(tempfile.gettempdir()) / f"actionbench-profile-{n}.pstats"
    profiler.dump_stats(dump)
    print(f"profile saved to {dump} (python -m pstats {dump})")
    stats = pstats.Stats(profiler)
    total = sum(tt for _, _, tt, _, _ in stats.stats.values())
    entries = [(key, nc, tt, ct) for key, (_cc, nc, tt, ct, _callers) in stats.stats.items()]

    def where(key) -> str:
        path, line, name = key
        path = re.sub(r"^.*/site-packages/", "", path.replace(str(ROOT) + "/", ""))
        return f"{path}:{line}:{name}"

    print(f"top functions by own time (total {total:.1f} s):")
    for key, nc, tt, ct in sorted(entries, key=lambda e: e[2], reverse=True)[:15]:
        print(f"  {tt:6.2f} s own, {ct:6.2f} s cumulative, {nc:>9,} calls  {where(key)}")
    print("project functions by cumulative time:")
    ours = [e for e in entries if str(ROOT) in e[0][0] and "/.venv/" not in e[0][0]]
    for key, nc, _tt, ct in sorted(ours, key=lambda e: e[3], reverse=True)[:20]:
        print(f"  {ct:6.2f} s, {nc:>7,} calls  {where(key)}")
    shapes: dict[str, list[float]] = {}
    for query in queries.captured_queries:
        shapes.setdefault(_shape(query["sql"]), []).append(float(query["time"]))
    sql_total = sum(sum(times) for times in shapes.values())
    print(
        f"{len(queries.captured_queries):,} queries, {sql_total:.2f} s client-side (COPY not "
        "seen); by shape:"
    )
    for shape, times in sorted(shapes.items(), key=lambda i: sum(i[1]), reverse=True)[:12]:
        print(f"  {sum(times):6.2f} s {len(times):5,} x (max {max(times) * 1000:7.1f} ms)  {shape}")


# Report


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _print_workload(label: str, result: dict, n: int) -> None:
    rest = result["seconds"] - result["sql_s"] - result["copy_s"] - result["commit_s"]
    print(
        f"{label}: {n:,} students in {result['seconds']:.2f} s = "
        f"{n / result['seconds']:,.0f} students/s (start {result['start_s']:.2f} s, "
        f"{result['start_queries']} queries; run {result['run_s']:.2f} s)"
    )
    print(
        f"   {result['queries']} queries {result['sql_s']:.2f} s (client-side), "
        f"{result['copies']} COPYs {result['copy_s']:.2f} s, {result['commits']} COMMITs "
        f"{result['commit_s']:.2f} s, the rest (Python) {rest:.2f} s; "
        f"{result['summaries_queued']} summary email queued (recorded, not sent)"
    )
    for shape, count, seconds in result["top"]:
        print(f"     {seconds:5.2f} s {count:3} x  {' '.join(shape.split())[:90]}")
    print(f"   check: {result['check']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2,000 students, 1,000 per workload, baseline 200 (not 20,000, 10,000 and 1,000)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run both workloads under cProfile (hotspots, queries by shape) and stop",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="whole runs, each seeded afresh; the RESULT figures are their medians (default 3)",
    )
    options = parser.parse_args()
    size = QUICK if options.quick else FULL
    n = size["selected"]

    url = _database_url()
    create_database_if_missing(url)
    _setup_django()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit(f"DATABASE_URL must name PostgreSQL, not {connection.vendor}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    cpus = os.cpu_count() or 1
    print(
        f"load average before: {load} on {cpus} CPUs (other work on the machine skews the figures)"
    )
    print(f"database: {settings.DATABASES['default']['NAME']}; code: {_code_state()}")
    call_command("migrate", interactive=False, verbosity=0)
    if options.profile:
        seeded = _seed_fresh(size, n)
        _profile(seeded, n)
        return

    runs = [_measured_run(size, n, number, options.runs) for number in range(options.runs)]
    year_group_s = statistics.median(run["year_group_s"] for run in runs)
    deactivate_s = statistics.median(run["deactivate_s"] for run in runs)
    ratio = statistics.median(run["ratio"] for run in runs)
    peak_mb = max(run["peak_mb"] for run in runs)
    if options.runs > 1:
        print(
            f"median of {options.runs} runs (each seeded afresh; ratio: the median of each run's):"
        )
        for name in ("year_group_s", "deactivate_s", "ratio", "deactivate_ratio"):
            values = ", ".join(f"{run[name]:.2f}" for run in runs)
            print(f"   {name}: {values}")

    scope_note = (
        "" if n == FULL["selected"] else " (the targets are for 10,000; --quick smoke-tests)"
    )
    print(f"targets{scope_note}:")
    print(
        f"   year group {year_group_s:.2f} s <= {TARGET_SECONDS} s: "
        f"{_verdict(year_group_s <= TARGET_SECONDS)}"
    )
    print(
        f"   deactivate {deactivate_s:.2f} s <= {TARGET_SECONDS} s: "
        f"{_verdict(deactivate_s <= TARGET_SECONDS)}"
    )
    print(f"   peak {peak_mb:.0f} MB <= {TARGET_MB} MB: {_verdict(peak_mb <= TARGET_MB)}")
    deactivate_ratio = statistics.median(run["deactivate_ratio"] for run in runs)
    print(f"   baseline ratio {ratio:.1f} >= {TARGET_RATIO}: {_verdict(ratio >= TARGET_RATIO)}")
    print(
        f"   baseline ratio against deactivate {deactivate_ratio:.1f} >= {TARGET_RATIO}: "
        f"{_verdict(deactivate_ratio >= TARGET_RATIO)}"
    )
    missed = (
        max(year_group_s, deactivate_s) > TARGET_SECONDS
        or peak_mb > TARGET_MB
        or min(ratio, deactivate_ratio) < TARGET_RATIO
    )
    if missed:
        print("   a target is missed: --profile shows where the time goes")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average after: {load}")
    print(
        f"RESULT users={n} year_group_s={year_group_s:.2f} "
        f"deactivate_s={deactivate_s:.2f} peak_mb={peak_mb:.0f} baseline_ratio={ratio:.1f}"
    )


def _seed_fresh(size: dict, n: int) -> dict:
    empty_database(SLUG)
    started = time.perf_counter()
    seeded = _seed(size)
    print(
        f"seeded district {SLUG} in {time.perf_counter() - started:.1f} s: "
        f"{seeded['students']:,} students ({n:,} in Year 7, {2 * size['baseline']:,} more in "
        f"Year 9, the rest in Years 8-13), {seeded['tokens']:,} live activation links, 2 schools "
        "(bulk_create, then VACUUM ANALYZE)"
    )
    return seeded


def _measured_run(size: dict, n: int, number: int, runs: int) -> dict:
    """One run: a fresh district, both workloads, both baselines, printed in full."""
    if runs > 1:
        print(f"run {number + 1} of {runs}:")
    seeded = _seed_fresh(size, n)
    gc.collect()
    seed_peak = _maxrss_mb()
    reset = _reset_peak()
    rss_before = _rss_mb()
    first, second = _workloads(seeded, n)
    base = _baseline(
        seeded["district_id"], seeded["admin_id"], seeded["years"], size["baseline"], atomic=False
    )
    strict = _baseline(
        seeded["district_id"], seeded["admin_id"], seeded["years"], size["baseline"], atomic=True
    )
    peak_mb = _maxrss_mb()

    _print_workload("1. year group (Year 7 -> Year 8)", first, n)
    _print_workload("2. deactivate (the same students)", second, n)
    factor = n / size["baseline"]
    scaled = base["seconds"] * factor
    ratio = scaled / first["seconds"]
    print(
        f"baseline save loop: {size['baseline']:,} Year 9 students -> Year 10, one save() and "
        f"one AuditEvent.objects.create() each, autocommit: {base['seconds']:.2f} s = "
        f"{size['baseline'] / base['seconds']:,.0f} students/s"
    )
    print(
        f"   scaled x{factor:g} to {n:,}: {scaled:.1f} s (estimated, not run whole); "
        f"baseline_ratio = {scaled:.1f} / {first['seconds']:.2f} = {ratio:.1f} "
        f"(against deactivate: {scaled / second['seconds']:.1f})"
    )
    strict_scaled = strict["seconds"] * factor
    print(
        f"   the same loop in one transaction (no commit per write), on {size['baseline']:,} "
        f"other Year 9 students: {strict['seconds']:.2f} s = "
        f"{size['baseline'] / strict['seconds']:,.0f} students/s, scaled {strict_scaled:.1f} s, "
        f"ratio {strict_scaled / first['seconds']:.1f} (for context; not the RESULT ratio)"
    )
    if reset:
        print(
            f"memory: RSS {rss_before:.0f} MB before the workloads (seeding peaked at "
            f"{seed_peak:.0f} MB, then the peak was reset), peak {peak_mb:.0f} MB (ru_maxrss)"
        )
    else:
        print(f"memory: peak {peak_mb:.0f} MB (ru_maxrss, seeding included: no clear_refs)")
    return {
        "year_group_s": first["seconds"],
        "deactivate_s": second["seconds"],
        "ratio": ratio,
        "deactivate_ratio": scaled / second["seconds"],
        "peak_mb": peak_mb,
    }


if __name__ == "__main__":
    main()
