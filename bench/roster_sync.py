"""Roster sync on PostgreSQL: a OneRoster CSV bundle of 100,000 users, 4,000 classes and
400,000 enrollments synced three times, first into an empty district, then again unchanged,
then as the same district a year later.

Each sync runs in this process what an upload and the Celery task rostering.tasks.execute_sync
run: services.run_start(..., enqueue=False) (the bundle checked and stored on the run), then
run_claim and run_execute (read the zip, diff it against the RosterRecords, then apply it in
one transaction, or hold it). The seconds reported time the three together; the split, and the
split of run_execute by its phases (reading, comparing, applying: the marks run_execute itself
records), are printed too, with the statements by shape, the COPYs and the COMMITs.

1. first: the bundle into a district that has no schools, classes or accounts: every user,
   class and enrollment is created.
2. resync: the same bytes again: nothing changes (run.counts["user"] is only "unchanged").
   The same again once more is printed for context (2b, not in RESULT): the first re-sync
   meets the digests the first sync stored, the second one those a re-sync stored.
3. next year (samples.next_year): every student one grade up (05 -> 06 moves school), 8% of
   them gone (all of grade 12 and random others), guardians with no child left gone too,
   10% of the classes renamed and 10% replaced under new sourcedIds, the sessions one year on.
   More than the connection's threshold (10% of rostered accounts) changes, so the run is
   HELD: its diff (read, compare, the kept changes stored) is timed on its own line, as the
   admin waits for it before reviewing. Then run_approve(..., enqueue=False) + run_claim +
   run_execute(approved=True), what the worker runs once the admin approves: that is
   nextyear_s, the part that writes.

Each phase is checked against what the generated rows say (the run's status and counts, then
count queries: rostered and active accounts, active students per grade, enrollments, teacher
links, guardian links, active and archived classes), so a broken sync cannot print a good
figure: the script exits non-zero when a check fails.

The bundles are generated (samples.SampleDistrict, sample_rows, next_year, bundle_zip; 1.1
unless --version 1.2) in a child process, so their rows (half a gigabyte of dicts) never
weigh on this process; their size and generation time are printed, not part of the figures.
The connection is the district's csv_upload one (connection_for_upload): threshold 10%,
activation emails "hold" (accounts created invited, no email). Celery runs eagerly
(task_always_eager), so the held run's alert needs no broker (the district has no admin to
mail); the execute_sync task run_approve queues is recorded, not run (the bench runs what that
task runs itself). DEBUG is off (no query log).

Each run empties the bench database (TRUNCATE ... CASCADE; it refuses a database holding other
districts) and creates the district `rosterbench`. Peak memory is ru_maxrss of this process,
reset before each phase where Linux allows it (/proc/self/clear_refs), so it covers the syncs
(Django, the two bundles' bytes and the run) and not the setup; peak_mb is the largest of the
phases. Another process on this 2-core machine skews the figures: the load average is
printed. --profile PHASE runs the phases before it as usual, then that one under cProfile
(top functions by cumulative and by own time, queries by shape) and stops. --quick: ~2,000
users, 80 classes, ~8,000 enrollments. --scale 0.5: half the full size.
The last line is machine-readable. Run: .venv/bin/python bench/roster_sync.py [--quick]
[--profile first|resync|nextyear], with DATABASE_URL naming a PostgreSQL database (default
postgres://postgres@127.0.0.1:5432/rollbook_bench_roster; created if missing, then migrated).
"""

import argparse
import cProfile
import gc
import json
import multiprocessing
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from _db import create_database_if_missing, empty_database, postgres_url
from _db import maxrss_mb as _maxrss_mb
from _db import reset_peak as _reset_peak
from _db import rss_mb as _rss_mb

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/rollbook_bench_roster"
SLUG = "rosterbench"
SEED = 20250919

# ~100,000 users: 79,000 students, ~16,900 guardians (siblings share some), 4,000 teachers,
# 20 site administrators; 79,000 x 5 + ~5,000 teacher enrollments = ~400,000.
FULL = {
    "schools": 40,
    "students": 79_000,
    "teachers": 4_000,
    "admins": 20,
    "guardians_per_student": 0.247,
    "classes": 4_000,
    "enrollments_per_student": 5,
}
QUICK = {**FULL, "schools": 4, "students": 1_580, "teachers": 80, "admins": 2, "classes": 80}
LEAVERS = 0.08
CLASS_CHANGES = 0.1
TARGETS = {"first": 60, "resync": 10, "nextyear": 60}  # seconds, for 100,000 users
TARGET_MB = 500
PHASES = ("first", "resync", "nextyear")
GUARDIAN_ROLES = {"parent", "guardian", "relative"}


def _database_url() -> str:
    return postgres_url(DEFAULT_DATABASE_URL, "bench/roster_sync.py")


def _setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # The held run's alert and any invitation run in-process: no broker, no worker.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    import django

    django.setup()
    from config.celery import app as celery_app

    celery_app.conf.task_always_eager = True


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _code_state() -> str:
    """The commit measured, and uncommitted changes to the code (another agent may be editing
    the same working tree)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
        ).stdout.split("\n")
    except OSError:
        return "unknown (no git)"
    changed = [line[3:] for line in dirty if line[3:].endswith(".py") and "rostering/" in line[3:]]
    return f"{head}" + (f" + uncommitted/untracked: {', '.join(changed)}" if changed else "")


# The bundles, generated in a child process


def _split(value: str) -> list[str]:
    return [part for part in value.split(",") if part]


def _expected(rows: dict, version: str) -> dict:
    """What a correct sync of these rows leaves in Rollbook, counted from the rows."""
    from rostering.oneroster.samples import _memberships

    role_of, _orgs = _memberships(rows, version)
    users = rows["users.csv"]
    kinds = Counter()
    for user in users:
        role = role_of.get(user["sourcedId"], "")
        kinds["guardian" if role in GUARDIAN_ROLES else role] += 1
    enabled = [u for u in users if u["enabledUser"] == "true"]
    grades = Counter(
        u["grades"].split(",")[0] for u in enabled if role_of.get(u["sourcedId"]) == "student"
    )
    pairs = {"student": set(), "teacher": set()}
    for row in rows["enrollments.csv"]:
        if row["role"] in pairs and row["status"] != "tobedeleted":
            pairs[row["role"]].add((row["classSourcedId"], row["userSourcedId"]))
    links = set()
    for user in users:
        uid, role = user["sourcedId"], role_of.get(user["sourcedId"])
        for agent in _split(user["agentSourcedIds"]):
            if role == "student" and role_of.get(agent) in GUARDIAN_ROLES:
                links.add((agent, uid))
            elif role in GUARDIAN_ROLES and role_of.get(agent) == "student":
                links.add((uid, agent))
    return {
        "users": len(users),
        "kinds": dict(kinds),
        "enabled": len(enabled),
        "grades": dict(grades),
        "enrollment_rows": len(rows["enrollments.csv"]),
        "student_pairs": len(pairs["student"]),
        "teacher_pairs": len(pairs["teacher"]),
        "links": len(links),
        "classes": len(rows["classes.csv"]),
        "schools": sum(1 for org in rows["orgs.csv"] if org["type"] == "school"),
    }


def _generate(size: dict, version: str, folder: str) -> None:
    """Child process: both bundles as zips in `folder`, and what each should give."""
    sys.path.insert(0, str(ROOT))
    from rostering.oneroster.samples import SampleDistrict, bundle_zip, next_year, sample_rows

    started = time.perf_counter()
    rows = sample_rows(SampleDistrict(version=version, seed=SEED, **size))
    first = bundle_zip(rows, version=version)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    later = next_year(
        rows, version=version, leavers=LEAVERS, seed=SEED + 1, class_changes=CLASS_CHANGES
    )
    second = bundle_zip(later, version=version)
    next_s = time.perf_counter() - started
    expected = {"first": _expected(rows, version), "nextyear": _expected(later, version)}
    old = {u["sourcedId"]: u for u in rows["users.csv"]}
    new = {u["sourcedId"] for u in later["users.csv"]}
    gone = [sid for sid in old if sid not in new]
    from rostering.oneroster.samples import _memberships

    role_of, _orgs = _memberships(rows, version)
    students = {sid for sid, role in role_of.items() if role == "student"}
    expected["nextyear"].update(
        gone=len(gone),
        # Already deactivated accounts (enabledUser false) are not deactivated again.
        deactivated=sum(1 for sid in gone if old[sid]["enabledUser"] == "true"),
        students_kept=len(students & new),
        guardians_kept=expected["nextyear"]["kinds"].get("guardian", 0),
        classes_gone=len(
            {c["sourcedId"] for c in rows["classes.csv"]}
            - {c["sourcedId"] for c in later["classes.csv"]}
        ),
        users_ever=len(set(old) | new),
    )
    Path(folder, "first.zip").write_bytes(first)
    Path(folder, "nextyear.zip").write_bytes(second)
    Path(folder, "expected.json").write_text(
        json.dumps({**expected, "first_s": first_s, "next_s": next_s})
    )


def _bundles(size: dict, version: str) -> tuple[bytes, bytes, dict]:
    with tempfile.TemporaryDirectory(prefix="rosterbench-") as folder:
        # Forked before Django is set up: the child imports only the sample generator.
        child = multiprocessing.get_context("fork").Process(
            target=_generate, args=(size, version, folder)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"generating the bundles failed (exit code {child.exitcode})")
        expected = json.loads(Path(folder, "expected.json").read_text())
        return (
            Path(folder, "first.zip").read_bytes(),
            Path(folder, "nextyear.zip").read_bytes(),
            expected,
        )


# The bench district


def _district() -> tuple[int, int]:
    """The bench district (no schools, year groups or accounts: the sync makes them) and its
    upload connection."""
    from django_scopes import scopes_disabled

    from rostering import services
    from schools.models import District
    from schools.tenancy import district_scope

    with scopes_disabled():
        district = District.objects.create(name="Roster Bench District", slug=SLUG)
    with district_scope(district.pk) as scoped:
        connection = services.connection_for_upload(district=scoped, actor=None)
    return district.pk, connection.pk


# Measuring


class _Queries:
    """Counts the statements Django executes and their client-side seconds, by shape (the
    first words of the SQL, before its values), and times the COPYs of
    bulkactions.importing.bulk (building their rows included) and the COMMITs (which bypass
    cursor.execute)."""

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
            entry = self.shapes.setdefault(_shape(sql), [0, 0.0])
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
                spent = time.perf_counter() - started
                self.copies += 1
                self.copy_s += spent
                entry = self.shapes.setdefault(f"COPY {model._meta.db_table}", [0, 0.0])
                entry[0] += 1
                entry[1] += spent

        with mock.patch.object(bulk, "_copy", timed):
            yield

    @contextmanager
    def commits_timed(self, connection):
        real = connection._commit

        def timed():
            started = time.perf_counter()
            try:
                return real()
            finally:
                spent = time.perf_counter() - started
                self.commits += 1
                self.commit_s += spent
                entry = self.shapes.setdefault("COMMIT", [0, 0.0])
                entry[0] += 1
                entry[1] += spent

        with mock.patch.object(connection, "_commit", timed):
            yield

    def top(self, count: int) -> list[tuple[str, int, float]]:
        ranked = sorted(self.shapes.items(), key=lambda item: item[1][1], reverse=True)
        return [(shape, n, seconds) for shape, (n, seconds) in ranked[:count]]


def _shape(sql: str) -> str:
    """A query without its values: numbers, strings and long lists collapsed."""
    shape = re.sub(r"'(?:[^']|'')*'", "'?'", sql)
    shape = re.sub(r"\b\d+\b", "N", shape)
    shape = re.sub(r"\((?:N|'\?'|%s)(?:, (?:N|'\?'|%s))+\)", "(...)", shape)
    return " ".join(shape.split())[:120]


@contextmanager
def _phase_marks(marks: list):
    """run_execute marks its phases (fetching, reading, comparing, applying): timed."""
    from rostering import services

    real = services._phase

    def marked(run, phase):
        marks.append((phase, time.perf_counter()))
        return real(run, phase)

    with mock.patch.object(services, "_phase", marked):
        yield


@contextmanager
def _measured(queries: _Queries, marks: list, profiler):
    from django.db import connection
    from django.test import override_settings

    with (
        override_settings(DEBUG=False),
        connection.execute_wrapper(queries),
        queries.copies_timed(),
        queries.commits_timed(connection),
        _phase_marks(marks),
    ):
        if profiler is not None:
            profiler.enable()
        try:
            yield
        finally:
            if profiler is not None:
                profiler.disable()


def _step(label: str, body, profile: bool) -> dict:
    """Runs body() (the timed part of a phase) measured: seconds, peak memory, statements."""
    gc.collect()
    reset = _reset_peak()
    rss_before = _rss_mb()
    queries, marks = _Queries(), []
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    with _measured(queries, marks, profiler):
        parts = body()
    done = time.perf_counter()
    spans, previous = {}, None
    for phase, at in marks + [("", done)]:
        if previous is not None:
            spans[previous[0]] = spans.get(previous[0], 0.0) + at - previous[1]
        previous = (phase, at)
    return {
        "label": label,
        "seconds": done - started,
        "parts": parts,
        "spans": spans,
        "peak_mb": _maxrss_mb(),
        "peak_reset": reset,
        "rss_before": rss_before,
        "queries": queries,
        "profiler": profiler,
    }


def _clock(parts: dict, name: str, started: float) -> float:
    now = time.perf_counter()
    parts[name] = now - started
    return now


def _sync(connection_id: int, data: bytes, name: str, label: str, profile: bool) -> dict:
    """An upload then what execute_sync runs: run_start, run_claim, run_execute."""
    from rostering import services
    from rostering.models import RosterConnection, Trigger

    connection = RosterConnection.objects.select_related("district").get(pk=connection_id)
    holder = {}

    def body():
        parts = {}
        started = time.perf_counter()
        run = services.run_start(
            connection=connection,
            actor=None,
            trigger=Trigger.COMMAND,
            bundle=data,
            bundle_name=name,
            enqueue=False,
        )
        started = _clock(parts, "run_start", started)
        if not services.run_claim(run):
            raise SystemExit(f"{label}: run_claim refused run {run.pk} (another sync running?)")
        started = _clock(parts, "run_claim", started)
        holder["run"] = services.run_execute(run=run, approved=False)
        _clock(parts, "run_execute", started)
        return parts

    result = _step(label, body, profile)
    result["run"] = holder["run"]
    return result


def _approve(run, label: str, profile: bool) -> dict:
    """What the admin's approval and the worker then run: run_approve (its execute_sync task
    recorded, not run), run_claim, run_execute(approved=True)."""
    from rostering import services

    holder = {}

    def body():
        parts = {}
        started = time.perf_counter()
        with mock.patch.object(services, "_enqueue") as enqueued:
            approved = services.run_approve(run=run, actor=None, enqueue=False)
        holder["enqueued"] = enqueued.call_count
        started = _clock(parts, "run_approve", started)
        if not services.run_claim(approved):
            raise SystemExit(f"{label}: run_claim refused the approved run {approved.pk}")
        started = _clock(parts, "run_claim", started)
        holder["run"] = services.run_execute(run=approved, approved=True)
        _clock(parts, "run_execute", started)
        return parts

    result = _step(label, body, profile)
    result.update(holder)
    return result


# Checks


def _db_state(district_id: int) -> dict:
    """Count queries: what the district holds now."""
    from django.db.models import Count

    from accounts.models import GuardianLink, Role, Status, User
    from rostering.models import Entity, RosterRecord
    from schools.models import Classroom, Enrollment, School

    rostered = User.objects.filter(district_id=district_id, managed_by_sis=True)
    active = rostered.exclude(status=Status.DEACTIVATED)
    grades = dict(
        active.filter(role=Role.STUDENT)
        .order_by()
        .values("year_group__grade_code")
        .annotate(n=Count("id"))
        .values_list("year_group__grade_code", "n")
    )
    rooms = Classroom.objects.filter(district_id=district_id)
    return {
        "users": rostered.count(),
        "active": active.count(),
        "grades": {code or "": n for code, n in grades.items()},
        "enrollments": Enrollment.objects.filter(district_id=district_id).count(),
        "teaching": Classroom.teachers.through.objects.filter(
            classroom__district_id=district_id
        ).count(),
        "links": GuardianLink.objects.filter(district_id=district_id, managed_by_sis=True).count(),
        "classes": rooms.filter(archived_at__isnull=True).count(),
        "archived": rooms.filter(archived_at__isnull=False).count(),
        "schools": School.objects.filter(district_id=district_id).count(),
        "records_active": RosterRecord.objects.filter(
            district_id=district_id, entity=Entity.USER, is_active=True
        ).count(),
    }


def _compare(problems: list, what: str, got, want) -> None:
    if got != want:
        problems.append(f"{what}: {got!r}, expected {want!r}")


def _check_state(problems: list, state: dict, expect: dict, users_ever: int, archived: int):
    _compare(problems, "rostered accounts", state["users"], users_ever)
    _compare(problems, "active rostered accounts", state["active"], expect["enabled"])
    _compare(problems, "active students per grade", state["grades"], expect["grades"])
    _compare(problems, "enrollment rows", state["enrollments"], expect["student_pairs"])
    _compare(problems, "teacher links", state["teaching"], expect["teacher_pairs"])
    _compare(problems, "guardian links", state["links"], expect["links"])
    _compare(problems, "active classes", state["classes"], expect["classes"])
    _compare(problems, "archived classes", state["archived"], archived)
    _compare(problems, "schools", state["schools"], expect["schools"])
    _compare(problems, "active user RosterRecords", state["records_active"], expect["users"])


def _check_status(problems: list, run, status) -> None:
    if run.status != status:
        errors = "; ".join(e.get("message", "") for e in (run.errors or [])[:3])
        problems.append(
            f"run {run.pk} is {run.status}, expected {status}"
            + (f" ({errors})" if errors else "")
            + (f" (held: {run.hold_reason})" if run.hold_reason else "")
        )


def _changed(counts: dict) -> dict:
    """The counts other than "unchanged" that are not zero."""
    return {
        entity: {action: n for action, n in actions.items() if action != "unchanged" and n}
        for entity, actions in counts.items()
        if any(n for action, n in actions.items() if action != "unchanged")
    }


def _check_first(result: dict, expect: dict, district_id: int) -> list[str]:
    from rostering.models import RunStatus

    run, problems = result["run"], []
    _check_status(problems, run, RunStatus.APPLIED)
    _compare(problems, "counts[user]", run.counts.get("user"), {"created": expect["users"]})
    enrollments = run.counts.get("enrollment", {})
    _compare(
        problems,
        "enrollments created",
        enrollments.get("created"),
        expect["student_pairs"] + expect["teacher_pairs"],
    )
    _compare(problems, "classes created", run.counts.get("class"), {"created": expect["classes"]})
    result["state"] = _db_state(district_id)
    _check_state(problems, result["state"], expect, expect["users"], 0)
    return problems


def _check_resync(result: dict, expect: dict, district_id: int) -> list[str]:
    from rostering.models import RunStatus

    run, problems = result["run"], []
    _check_status(problems, run, RunStatus.APPLIED)
    _compare(problems, "counts[user]", run.counts.get("user"), {"unchanged": expect["users"]})
    _compare(problems, "changes", _changed(run.counts), {})
    result["state"] = _db_state(district_id)
    _check_state(problems, result["state"], expect, expect["users"], 0)
    return problems


def _check_held(result: dict, expect: dict, before: dict, district_id: int) -> list[str]:
    from rostering.models import RunStatus

    run, problems = result["run"], []
    _check_status(problems, run, RunStatus.HELD)
    if not run.hold_reason:
        problems.append("held without a hold_reason")
    _compare(
        problems,
        "users to deactivate",
        run.counts.get("user", {}).get("deactivated"),
        expect["deactivated"],
    )
    result["state"] = _db_state(district_id)
    _compare(problems, "the district after the held run (nothing written)", result["state"], before)
    return problems


def _check_nextyear(result: dict, expect: dict, district_id: int) -> list[str]:
    from rostering.models import RunStatus

    run, problems = result["run"], []
    _check_status(problems, run, RunStatus.APPLIED)
    users = run.counts.get("user", {})
    _compare(problems, "users deactivated", users.get("deactivated"), expect["deactivated"])
    updated = users.get("updated", 0)
    low, high = expect["students_kept"], expect["students_kept"] + expect["guardians_kept"]
    if not low <= updated <= high:
        problems.append(
            f"users updated: {updated}, expected every remaining student ({low:,}) and at most "
            f"the remaining guardians too ({high:,})"
        )
    for action in ("created", "restored", "linked"):
        if users.get(action):
            problems.append(f"users {action}: {users[action]}, expected none")
    result["state"] = _db_state(district_id)
    _check_state(problems, result["state"], expect, expect["users_ever"], expect["classes_gone"])
    return problems


# Report


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _print_step(result: dict) -> None:
    queries = result["queries"]
    parts = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result["parts"].items())
    spans = ", ".join(
        f"{phase} {seconds:.2f} s" for phase, seconds in result["spans"].items() if phase
    )
    rest = result["seconds"] - queries.seconds - queries.copy_s - queries.commit_s
    peak = f"peak {result['peak_mb']:.0f} MB" + (
        f" (RSS {result['rss_before']:.0f} MB before)"
        if result["peak_reset"]
        else " (no clear_refs: peak since start)"
    )
    print(f"{result['label']}: {result['seconds']:.2f} s, {peak}")
    print(f"   {parts}; in run_execute: {spans}")
    print(
        f"   {queries.count} queries {queries.seconds:.2f} s (client-side), {queries.copies} "
        f"COPYs {queries.copy_s:.2f} s (rows built included), {queries.commits} COMMITs "
        f"{queries.commit_s:.2f} s, the rest (Python) {rest:.2f} s"
    )
    for shape, count, seconds in queries.top(6):
        print(f"     {seconds:6.2f} s {count:5} x  {shape[:100]}")
    run = result.get("run")
    if run is not None:
        counts = "; ".join(
            f"{entity} " + ", ".join(f"{action} {n:,}" for action, n in actions.items() if n)
            for entity, actions in run.counts.items()
            if any(actions.values())
        )
        print(f"   run {run.pk}: {run.status}; {counts}")
        if run.hold_reason and run.status == "held":
            print(f"   hold reason: {run.hold_reason}")
        if run.warnings:
            print(f"   {len(run.warnings)} warnings, first: {run.warnings[0].get('message')}")
        if run.errors:
            for error in run.errors[:5]:
                print(f"   error: {error}")
    state = result.get("state")
    if state:
        grades = state["grades"]
        print(
            f"   the district: {state['users']:,} rostered accounts ({state['active']:,} active, "
            f"{sum(grades.values()):,} active students in {len(grades)} grades), "
            f"{state['enrollments']:,} enrollments, {state['teaching']:,} teacher links, "
            f"{state['links']:,} guardian links, {state['classes']:,} classes "
            f"(+{state['archived']:,} archived), {state['schools']} schools"
        )
    print(f"   check: {'; '.join(result['problems']) if result['problems'] else 'ok'}")


def _print_profile(result: dict) -> None:
    profiler = result["profiler"]
    dump = Path(tempfile.gettempdir()) / f"rosterbench-{result['key']}.pstats"
    profiler.dump_stats(dump)
    print(
        f"profile of {result['label']} ({result['seconds']:.2f} s with cProfile overhead) saved "
        f"to {dump} (python -m pstats {dump})"
    )
    stats = pstats.Stats(profiler)
    entries = [(key, nc, tt, ct) for key, (_cc, nc, tt, ct, _callers) in stats.stats.items()]

    def where(key) -> str:
        path, line, name = key
        path = re.sub(r"^.*/site-packages/", "", path.replace(str(ROOT) + "/", ""))
        return f"{path}:{line}:{name}"

    for title, index in (("cumulative", 3), ("own time (tottime)", 2)):
        print(f"top 30 functions by {title}:")
        for key, nc, tt, ct in sorted(entries, key=lambda e: e[index], reverse=True)[:30]:
            print(f"  {ct:7.2f} s cum {tt:7.2f} s own {nc:>10,} calls  {where(key)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="~2,000 users, 80 classes, ~8,000 enrollments (not ~100,000, 4,000 and ~400,000)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply the full size's schools, students, teachers, admins and classes",
    )
    parser.add_argument("--version", choices=("1.1", "1.2"), default="1.1", help="OneRoster")
    parser.add_argument(
        "--profile",
        choices=PHASES,
        help="run the phases before it, then this one under cProfile, and stop",
    )
    options = parser.parse_args()
    if options.quick:
        size = dict(QUICK)
    else:
        size = dict(FULL)
        for key in ("schools", "students", "teachers", "admins", "classes"):
            size[key] = max(1, round(size[key] * options.scale))
    is_full = not options.quick and options.scale == 1.0

    url = _database_url()
    print(f"load average before: {_load()} on {os.cpu_count() or 1} CPUs (other work skews it)")
    started = time.perf_counter()
    first_zip, next_zip, expected = _bundles(size, options.version)
    first, later = expected["first"], expected["nextyear"]
    kinds = ", ".join(f"{kind} {n:,}" for kind, n in sorted(first["kinds"].items()))
    print(
        f"bundles (OneRoster {options.version}, generated in a child process in "
        f"{time.perf_counter() - started:.1f} s: rows and zip {expected['first_s']:.1f} s, next "
        f"year {expected['next_s']:.1f} s; not part of the figures):"
    )
    print(
        f"   first: {len(first_zip) / 1048576:.1f} MB zipped, {first['users']:,} users ({kinds}), "
        f"{first['schools']} schools, {first['classes']:,} classes, "
        f"{first['enrollment_rows']:,} enrollments ({first['student_pairs']:,} student, "
        f"{first['teacher_pairs']:,} teacher), {first['links']:,} guardian links"
    )
    print(
        f"   next year: {len(next_zip) / 1048576:.1f} MB zipped, {later['users']:,} users "
        f"({later['gone']:,} gone, {later['deactivated']:,} of them to deactivate; "
        f"{later['students_kept']:,} students promoted), {later['classes']:,} classes "
        f"({later['classes_gone']:,} replaced), {later['enrollment_rows']:,} enrollments"
    )

    create_database_if_missing(url)
    _setup_django()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from schools.tenancy import district_scope

    if connection.vendor != "postgresql":
        raise SystemExit(f"DATABASE_URL must name PostgreSQL, not {connection.vendor}")
    print(f"database: {settings.DATABASES['default']['NAME']}; code: {_code_state()}")
    call_command("migrate", interactive=False, verbosity=0)
    empty_database(SLUG)
    district_id, connection_id = _district()
    name = f"{SLUG}.zip"
    results = {}
    failed = []

    def finish(result, problems):
        result["problems"] = problems
        result["key"] = next(key for key, value in results.items() if value is result)
        _print_step(result)
        if problems:
            failed.append(result["label"])
        if options.profile and result["profiler"] is not None:
            _print_profile(result)

    with district_scope(district_id):
        profile = options.profile == "first"
        results["first"] = _sync(connection_id, first_zip, name, "1. first sync", profile)
        finish(results["first"], _check_first(results["first"], first, district_id))
        if options.profile != "first":
            profile = options.profile == "resync"
            results["resync"] = _sync(
                connection_id, first_zip, name, "2. re-sync, unchanged", profile
            )
            finish(results["resync"], _check_resync(results["resync"], first, district_id))
        if options.profile not in ("first", "resync"):
            # For context (not in RESULT): the first re-sync finds digests the first sync
            # stored; a second one shows the steady state of a nightly sync.
            again = _sync(connection_id, first_zip, name, "2b. re-sync again (context)", False)
            results["again"] = again
            finish(again, _check_resync(again, first, district_id))
            profile = options.profile == "nextyear"
            before = results["again"]["state"]
            held = _sync(connection_id, next_zip, name, "3a. next year, held diff", profile)
            results["held"] = held
            finish(held, _check_held(held, later, before, district_id))
            applied = _approve(held["run"], "3b. next year, approved apply", profile)
            results["nextyear"] = applied
            problems = _check_nextyear(applied, later, district_id)
            finish(applied, problems)
            if applied["enqueued"]:
                print(
                    f"   note: run_approve(..., enqueue=False) queued execute_sync "
                    f"{applied['enqueued']} time(s) on commit (recorded, not run): it ignores "
                    "enqueue=False"
                )
    if options.profile:
        print(f"load average after: {_load()}")
        if failed:
            raise SystemExit(f"checks failed: {', '.join(failed)}")
        return

    peak_mb = max(results[key]["peak_mb"] for key in ("first", "resync", "held", "nextyear"))
    figures = {
        "first": results["first"]["seconds"],
        "resync": results["resync"]["seconds"],
        "nextyear": results["nextyear"]["seconds"],
    }
    held_s = results["held"]["seconds"]
    print(
        f"next year as the admin sees it: held diff {held_s:.2f} s, then the approved apply "
        f"{figures['nextyear']:.2f} s (together {held_s + figures['nextyear']:.2f} s)"
    )
    scope_note = "" if is_full else " (the targets are for 100,000 users; this is smaller)"
    print(f"targets{scope_note}:")
    for key, label in (("first", "first sync"), ("resync", "re-sync"), ("nextyear", "next year")):
        ok = figures[key] <= TARGETS[key]
        print(f"   {label} {figures[key]:.2f} s <= {TARGETS[key]} s: {_verdict(ok)}")
    print(f"   peak {peak_mb:.0f} MB <= {TARGET_MB} MB: {_verdict(peak_mb <= TARGET_MB)}")
    if any(figures[k] > TARGETS[k] for k in figures) or peak_mb > TARGET_MB:
        print("   a target is missed: --profile PHASE shows where the time goes")
    print(f"load average after: {_load()}")
    if failed:
        print(f"checks failed: {', '.join(failed)}: no RESULT line")
        raise SystemExit(1)
    print(
        f"RESULT users={first['users']} first_s={figures['first']:.2f} "
        f"resync_s={figures['resync']:.2f} nextyear_s={figures['nextyear']:.2f} "
        f"peak_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
