"""Settings > Students on PostgreSQL: list, search and filter pages of a district of 100,000
students and 5,000 staff, against the named baseline "naive" (the same pages with N+1 rows).

Seeds the district "bench" with bulk inserts (reused when its counts already match; --reseed
forces a fresh one), then replays a fixed mix of 200 list/sort/search/filter requests as the
district admin through Django's test client: server-side milliseconds per request (middleware,
session, queries and template rendering; no network, no browser) and queries per request. Each
run starts with no cached status counts (a new people version), as after a change. The
baseline replays the same requests with the rows queryset stripped of its select_related and
prefetch_related, so rendering fetches each row's year group separately.
The last line is machine-readable. Run: .venv/bin/python bench/user_list.py [--quick] [--reseed]
with DATABASE_URL naming a PostgreSQL database (default
postgres://postgres@127.0.0.1:5432/rollbook_bench; created if missing, then migrated).
"""

import argparse
import contextlib
import os
import random
import resource
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import urlencode, urlsplit

from _db import create_database_if_missing

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/rollbook_bench"
SLUG = "bench"
HOST = f"{SLUG}.localhost"
BATCH = 5000
BUDGET_MS = 100  # the p95 budget
SEED = 20250917

FULL = {"students": 100_000, "staff": 5_000, "classrooms": 4_000, "admins_per_school": 10}
QUICK = {"students": 5_000, "staff": 250, "classrooms": 200, "admins_per_school": 2}

SCHOOLS = (
    ("Northfield Academy", "NFA"),
    ("Riverside High School", "RHS"),
    ("St Brígida's College", "SBC"),
    ("Westgate School", "WGS"),
)
YEARS = range(7, 14)
SUBJECTS = (
    "English Maths Science Biology Chemistry Physics History Geography French Spanish "
    "German Art Music Drama Computing PE RE Design Citizenship Latin"
).split()
FIRST_NAMES = (
    "Ana|Anabel|Ana Sofía|Diana|Juliana|Hana|Joanna|Mariana|Sebastián|José|María|Lucía|Zoë|"
    "Chloé|Renée|Noémie|Élodie|Inès|Léa|Maël|François|Jérôme|Andrés|Ramón|Iñaki|Begoña|Raúl|"
    "Óscar|Álvaro|Siobhán|Seán|Niamh|Aoife|Oisín|Ciarán|Máire|Björn|Jürgen|Lena|Mia|Emma|Olivia|"
    "Amelia|Isla|Ava|Grace|Freya|Lily|Ella|Sophie|Oliver|George|Harry|Noah|Jack|Leo|Arthur|"
    "Muhammad|Oscar|Charlie|Jacob|Thomas|Henry|William|James|Mohammed|Aisha|Fatima|Zainab|Yusuf|"
    "Omar|Ibrahim|Priya|Aarav|Ananya|Arjun|Divya|Rohan|Wei|Mei|Jun|Hiroshi|Yuki|Minh|Thảo|"
    "Kwame|Ama|Chidi|Ngozi|Tendai|Kofi|Zsófia|Dominik|Kateřina|Tomáš|Agnieszka|Mateo|Dara|Émile"
).split("|")
LAST_NAMES = (
    "Díaz|Diaz|García|Martínez|Rodríguez|López|González|Hernández|Pérez|Sánchez|Ramírez|Muñoz|"
    "Núñez|Peña|Smith|Smithson|Smithers|Goldsmith|Jones|Williams|Brown|Taylor|Davies|Evans|"
    "Wilson|Thomas|Johnson|Roberts|Robinson|Thompson|Wright|Walker|White|Edwards|Hughes|Green|"
    "Hall|Lewis|Harris|Clarke|Patel|Jackson|Wood|Turner|Martin|Cooper|Hill|Ward|Morris|Moore|"
    "Clark|Lee|King|Baker|Harrison|Morgan|Allen|James|Scott|Phillips|Watson|Davis|Parker|Price|"
    "Bennett|Young|Griffiths|Mitchell|Kelly|Cook|Carter|Richardson|Bailey|Collins|Bell|Shaw|"
    "Murphy|Miller|Cox|Richards|Khan|Ahmed|Ali|Hussain|Begum|Singh|Kaur|Sharma|Gupta|Nguyễn|"
    "Trần|Lê|Phạm|Wang|Li|Zhang|Chen|Liu|Tanaka|Suzuki|Müller|Schröder|Dubois|Lefèvre|Bélanger|"
    "Côté|Gauthier|O'Brien|O'Connor|Ó Súilleabháin|Kowalski|Nowak|Novák|Dvořák|Horváth|Nagy|"
    "Okafor|Mensah|Santana|Santos|Fernandes|Conceição|Gonçalves|Adeyemi|Banerjee"
).split("|")
# Substrings people type in the search box: common, accented and not, partial words, two
# words, an email fragment, an SIS id prefix.
SEARCHES = (
    "ana",
    "smi",
    "díaz",
    "diaz",
    "garc",
    "martí",
    "nguy",
    "zoë",
    "lee",
    "son",
    "ana díaz",
    "o'brien",
    "mohammed khan",
    "@students",
    "s0012",
    "chloé",
    "harr",
    "ez",
)
SORT_KEYS = ("name", "username", "email", "year", "school", "status", "last_login", "created")
PAGE_SIZES = (25, 50, 100)


def _database_url() -> str:
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    scheme = urlsplit(url).scheme
    if scheme.startswith("sqlite") or scheme not in {"postgres", "postgresql", "pgsql", "psql"}:
        raise SystemExit(
            f"bench/user_list.py measures PostgreSQL (trigram search, its planner); "
            f"DATABASE_URL is {scheme}://... Unset it to use {DEFAULT_DATABASE_URL}, or point "
            "it at a PostgreSQL database (created if missing)."
        )
    return url


def _setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _pct(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 200 values is the 190th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


# Seeding


def _existing():
    from schools.models import District

    return District.objects.filter(slug=SLUG).first()


def _fits(district, size: dict) -> bool:
    """Whether a previous bench district has this run's counts (then it is reused)."""
    from django.db.models import Count, Q

    from accounts.models import STAFF_ROLES, Role, User
    from schools.models import Classroom

    counts = User.objects.filter(district=district).aggregate(
        students=Count("pk", filter=Q(role=Role.STUDENT)),
        staff=Count("pk", filter=Q(role__in=STAFF_ROLES)),
        admins=Count("pk", filter=Q(role=Role.DISTRICT_ADMIN)),
    )
    wanted = {"students": size["students"], "staff": size["staff"], "admins": 1}
    return counts == wanted and (
        Classroom.objects.filter(district=district).count() == size["classrooms"]
    )


def _drop(district) -> float:
    """Deletes a previous bench district: the bulky child tables by SQL, the rest by the ORM."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        users = "SELECT id FROM accounts_user WHERE district_id = %s"
        for statement in (
            "DELETE FROM schools_enrollment WHERE district_id = %s",
            "DELETE FROM accounts_activationtoken WHERE district_id = %s",
            f"DELETE FROM accounts_user_schools WHERE user_id IN ({users})",
            "DELETE FROM schools_classroom_teachers WHERE classroom_id IN "
            "(SELECT id FROM schools_classroom WHERE district_id = %s)",
            "UPDATE accounts_user SET case_manager_id = NULL WHERE district_id = %s",
        ):
            cursor.execute(statement, [district.pk])
        type(district).objects.filter(pk=district.pk).delete()
    return time.perf_counter() - started


def _username(first: str, last: str, n: int) -> str:
    from accounts.models import search_text_for

    def clean(text: str) -> str:
        return "".join(c for c in search_text_for(text) if c.isalnum())

    return f"{clean(first)}.{clean(last)}{n}"


def _weighted(names: list[str]) -> list[float]:
    # Some names are far more common than others (roughly Zipf).
    return [1 / (rank + 1) ** 0.6 for rank in range(len(names))]


def _seed(size: dict) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import (
        ActivationToken,
        PasswordMode,
        Role,
        Source,
        Status,
        TokenPurpose,
        User,
    )
    from schools.models import Classroom, District, Enrollment, School, YearGroup

    rng = random.Random(SEED)
    now = timezone.now()
    first_weights, last_weights = _weighted(FIRST_NAMES), _weighted(LAST_NAMES)
    unusable = make_password(None)  # one unusable hash for all: nobody signs in as them
    counts = {"users": 0, "memberships": 0, "enrollments": 0, "tokens": 0, "teachings": 0}
    Membership = User.schools.through
    Teaching = Classroom.teachers.through

    def person(role: str, n: int, *, email_share: float, domain: str) -> User:
        first = rng.choices(FIRST_NAMES, first_weights)[0]
        last = rng.choices(LAST_NAMES, last_weights)[0]
        username = _username(first, last, n)
        status = rng.choices((Status.ACTIVE, Status.INVITED, Status.DEACTIVATED), (70, 25, 5))[0]
        created = now - timedelta(days=rng.uniform(1, 3 * 365))
        source = rng.choices((Source.ROSTER, Source.IMPORT, Source.MANUAL), (60, 30, 10))[0]
        user = User(
            district=district,
            role=role,
            first_name=first,
            last_name=last,
            username=username,
            email=f"{username}@{domain}" if rng.random() < email_share else "",
            status=status,
            password=unusable,
            password_mode=rng.choices((PasswordMode.SELF, PasswordMode.STAFF), (80, 20))[0],
            source=source,
            sis_id=f"S{n:07d}" if source == Source.ROSTER else "",
            managed_by_sis=source == Source.ROSTER,
            created_at=created,
            last_login=(
                now - timedelta(days=rng.uniform(0, 90), seconds=rng.randrange(86400))
                if status != Status.INVITED and rng.random() < 0.9
                else None
            ),
            invited_at=created if status == Status.INVITED else None,
            deactivated_at=(
                now - timedelta(days=rng.uniform(0, 200)) if status == Status.DEACTIVATED else None
            ),
        )
        return user

    def with_derived_columns(user: User) -> None:
        # bulk_create skips save(), which fills search_text and year_ordinal, and bulk inserts
        # into the through table skip set_schools(), which fills school_names.
        user.refresh_derived(schools=user._bench_schools)

    def insert(model, rows: list) -> list:
        return model.objects.bulk_create(rows, batch_size=BATCH)

    def tokens_for(users: list[User]) -> list[ActivationToken]:
        tokens = []
        for user in users:
            if user.status != Status.INVITED or not user.email:
                continue
            sent = user.invited_at + timedelta(minutes=rng.randrange(1, 30))
            if rng.random() < 0.5:  # half the invitations went out recently, half expired
                sent = now - timedelta(days=rng.uniform(0, 6))
            tokens.append(
                ActivationToken(
                    district=district,
                    user=user,
                    purpose=TokenPurpose.ACTIVATE,
                    token_hash=secrets.token_hex(32),
                    dispatch_key=secrets.token_hex(32),
                    created_at=sent,
                    expires_at=sent + timedelta(days=district.activation_days),
                    sent_at=sent,
                    created_by=admin,
                )
            )
        return tokens

    with transaction.atomic():
        district = District.objects.create(name="Bench District", slug=SLUG)
        schools = insert(
            School, [School(district=district, name=n, code=c, sis_id=c) for n, c in SCHOOLS]
        )
        years = insert(
            YearGroup,
            [
                YearGroup(district=district, ordinal=y, name=f"Year {y}", grade_code=f"{y:02d}")
                for y in YEARS
            ],
        )
        for year, following in zip(years, years[1:], strict=False):
            year.next = following
        YearGroup.objects.bulk_update(years[:-1], ["next"])

        # Staff: one district admin, school admins, teachers (each in one or two schools).
        admin = person(Role.DISTRICT_ADMIN, 0, email_share=1, domain="staff.bench.example")
        admin.first_name, admin.last_name, admin.username = "Dana", "Admin", "bench.admin"
        admin.email, admin.status, admin.password_mode = (
            "admin@staff.bench.example",
            "active",
            "self",
        )
        admin._bench_schools = []
        with_derived_columns(admin)
        staff = [admin]
        for n in range(1, size["staff"]):
            admins = size["admins_per_school"] * len(schools)
            role = Role.SCHOOL_ADMIN if n <= admins else Role.TEACHER
            member = person(role, n, email_share=1, domain="staff.bench.example")
            home = schools[n % len(schools)] if n <= admins else rng.choice(schools)
            member._bench_schools = [home]
            if role == Role.TEACHER and rng.random() < 0.1:
                member._bench_schools.append(rng.choice([s for s in schools if s != home]))
            with_derived_columns(member)
            staff.append(member)
        staff = insert(User, staff)
        admin = staff[0]
        teachers_of = {school.pk: [] for school in schools}
        memberships = []
        for member in staff:
            for school in member._bench_schools:
                memberships.append(Membership(user_id=member.pk, school_id=school.pk))
                if member.role == Role.TEACHER and member.status != Status.DEACTIVATED:
                    teachers_of[school.pk].append(member.pk)
        insert(Membership, memberships)
        counts["memberships"] += len(memberships)
        tokens = tokens_for(staff)
        insert(ActivationToken, tokens)
        counts["tokens"] += len(tokens)
        counts["users"] += len(staff)
        # About one teacher in twenty-five manages cases.
        case_managers = {
            school: rng.sample(pks, max(1, len(pks) // 25)) for school, pks in teachers_of.items()
        }

        # Classrooms: split evenly over schools and year groups, one teacher each.
        classrooms = []
        for n in range(size["classrooms"]):
            school = schools[n % len(schools)]
            year = years[(n // len(schools)) % len(years)]
            subject = SUBJECTS[(n // (len(schools) * len(years))) % len(SUBJECTS)]
            set_no = n // (len(schools) * len(years) * len(SUBJECTS)) + 1
            classrooms.append(
                Classroom(
                    district=district,
                    school=school,
                    year_group=year,
                    name=f"{year.ordinal}{'ABCDEFGH'[set_no % 8]}/{subject} {set_no}",
                    sis_id=f"C{n:06d}",
                )
            )
        classrooms = insert(Classroom, classrooms)
        classes_of = {}
        teachings = []
        for classroom in classrooms:
            classes_of.setdefault((classroom.school_id, classroom.year_group_id), []).append(
                classroom.pk
            )
            teachers = teachers_of[classroom.school_id]
            if teachers:
                teachings.append(Teaching(classroom_id=classroom.pk, user_id=rng.choice(teachers)))
        insert(Teaching, teachings)
        counts["teachings"] = len(teachings)

        # Students, a batch at a time: the users, then their schools, classes and tokens.
        for start in range(0, size["students"], BATCH):
            batch = []
            for n in range(start, min(start + BATCH, size["students"])):
                student = person(
                    Role.STUDENT,
                    size["staff"] + n,
                    email_share=0.75,
                    domain="students.bench.example",
                )
                student.year_group = rng.choice(years)
                school = rng.choice(schools)
                student._bench_schools = [school]
                if rng.random() < 0.02:
                    student._bench_schools.append(rng.choice([s for s in schools if s != school]))
                if rng.random() < 0.1:
                    student.case_manager_id = rng.choice(case_managers[school.pk])
                with_derived_columns(student)
                batch.append(student)
            batch = insert(User, batch)
            memberships, enrollments = [], []
            for student in batch:
                for school in student._bench_schools:
                    memberships.append(Membership(user_id=student.pk, school_id=school.pk))
                bucket = classes_of.get((student._bench_schools[0].pk, student.year_group_id), [])
                for classroom_id in rng.sample(bucket, min(len(bucket), rng.choice((3, 4)))):
                    enrollments.append(
                        Enrollment(district=district, classroom_id=classroom_id, student=student)
                    )
            insert(Membership, memberships)
            insert(Enrollment, enrollments)
            tokens = tokens_for(batch)
            insert(ActivationToken, tokens)
            counts["users"] += len(batch)
            counts["memberships"] += len(memberships)
            counts["enrollments"] += len(enrollments)
            counts["tokens"] += len(tokens)
    # What autovacuum does after bulk inserts, done now: planner statistics, visibility map.
    with connection.cursor() as cursor:
        for table in (
            "accounts_user",
            "accounts_user_schools",
            "accounts_activationtoken",
            "schools_enrollment",
            "schools_classroom",
            "schools_classroom_teachers",
            "schools_school",
            "schools_yeargroup",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return counts


# The request mix


def _request_mix(rng: random.Random, ids: dict, count: int) -> list[tuple[str, dict]]:
    """(category, GET params) for a fixed mix of list, sort, search, filter and combined
    requests, shuffled; per_page varies over 25, 50 and 100."""

    def per_page(params: dict) -> dict:
        size = rng.choice(PAGE_SIZES)
        return {**params, "per_page": size} if size != 50 else params

    def one_filter() -> dict:
        kind = rng.choice(
            ("school", "year_group", "status", "classroom", "case_manager", "source", "two")
        )
        if kind == "school":
            return {"school": rng.choice(ids["schools"])}
        if kind == "year_group":
            return {"year_group": rng.choice(ids["years"])}
        if kind == "status":
            return {"status": rng.choice(("active", "invited", "deactivated"))}
        if kind == "classroom":
            return {"classroom": rng.choice(ids["classrooms"])}
        if kind == "case_manager":
            return {"case_manager": rng.choice(("assigned", "unassigned", *ids["case_managers"]))}
        if kind == "source":
            return {"source": rng.choice(("roster", "import", "manual"))}
        return {
            "school": rng.choice(ids["schools"]),
            "year_group": rng.choice(ids["years"]),
            "status": rng.choice(("active", "invited")),
        }

    mix = []
    share = {"list": 0.18, "sort": 0.16, "search": 0.2, "filter": 0.26}
    n_list, n_sort, n_search, n_filter = (round(count * share[k]) for k in share)
    for _ in range(n_list):
        params = per_page({})
        pages = -(-ids["students"] // params.get("per_page", 50))
        page = rng.choice(
            (1, 1, 1, 2, 2, 3, 4, 5, rng.randint(6, max(6, pages)), pages)
        )  # mostly the first pages, some deep ones, the last
        mix.append(("list", {**params, "page": page} if page > 1 else params))
    for n in range(n_sort):
        key = SORT_KEYS[n % len(SORT_KEYS)]
        sort = key if (n // len(SORT_KEYS)) % 2 == 0 else f"-{key}"
        params = per_page({"sort": sort} if sort != "name" else {})
        if rng.random() < 0.25:
            params["page"] = rng.randint(2, 5)
        mix.append(("sort", params))
    for n in range(n_search):
        mix.append(("search", per_page({"q": SEARCHES[n % len(SEARCHES)]})))
    for _ in range(n_filter):
        mix.append(("filter", per_page(one_filter())))
    for _ in range(count - len(mix)):
        params = {**one_filter(), "q": rng.choice(SEARCHES)}
        if rng.random() < 0.3:
            params["sort"] = rng.choice(SORT_KEYS)
        mix.append(("filter+search", per_page(params)))
    rng.shuffle(mix)
    return mix


def _naive_rows(real):
    """The baseline's rows: the same page, with the same annotations, but without the joins
    a row needs, so rendering each row fetches its year group and its schools separately
    (the usual N+1)."""

    def rows(users):
        return real(users).select_related(None).prefetch_related(None)

    return rows


def _timed_get(client, url: str, *, naive: bool = False) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import accounts.selectors

    patch = (
        mock.patch.object(
            accounts.selectors,
            "users_with_row_joins",
            _naive_rows(accounts.selectors.users_with_row_joins),
        )
        if naive
        else contextlib.nullcontext()
    )
    connection.queries_log.clear()  # a full log (9,000 queries) would hide new ones
    with patch, CaptureQueriesContext(connection) as queries:
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu_started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}, not 200")
    return {
        "url": url,
        "ms": ms,
        "cpu_ms": cpu_ms,
        "queries": len(queries.captured_queries),
        "db_ms": sum(float(q["time"]) for q in queries.captured_queries) * 1000,
        "rows": response.content.count(b"data-select-row>"),
        "sql": queries.captured_queries,
    }


def _summary(label: str, results: list[dict]) -> dict:
    ms = [r["ms"] for r in results]
    db = [r["db_ms"] for r in results]
    cpu = [r["cpu_ms"] for r in results]
    queries = [r["queries"] for r in results]
    figures = {
        "p50": statistics.median(ms),
        "p95": _pct(ms, 95),
        "max": max(ms),
        "mean": statistics.fmean(ms),
        "q_max": max(queries),
    }
    print(
        f"{label:8} p50 {figures['p50']:7.1f} ms  p95 {figures['p95']:7.1f} ms  "
        f"max {figures['max']:7.1f} ms  mean {figures['mean']:6.1f} ms  queries "
        f"{min(queries)}-{max(queries)} (median {statistics.median(queries):g})"
    )
    print(
        f"{'':8} of which SQL (client-side) p50 {statistics.median(db):6.1f} ms, p95 "
        f"{_pct(db, 95):6.1f} ms; Python CPU p50 {statistics.median(cpu):6.1f} ms, p95 "
        f"{_pct(cpu, 95):6.1f} ms"
    )
    return figures


def _explain(query: dict) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
        plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
    print(f"  slowest query ({float(query['time']) * 1000:.1f} ms):\n    {query['sql']}\n{plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="5,000 students and 250 staff, not 100,000 and 5,000"
    )
    parser.add_argument(
        "--reseed", action="store_true", help="drop and reseed the bench district even if it fits"
    )
    parser.add_argument("--requests", type=int, default=200, help="how many measured requests")
    parser.add_argument(
        "--explain",
        type=int,
        default=None,
        help="EXPLAIN ANALYZE the slowest query of this many slowest requests "
        f"(default: 3 when p95 is over {BUDGET_MS} ms, else 0)",
    )
    options = parser.parse_args()
    size = QUICK if options.quick else FULL

    url = _database_url()
    create_database_if_missing(url)
    _setup_django()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import reverse
    from django_scopes import scopes_disabled

    from accounts.audit import people_changed
    from accounts.models import STAFF_ROLES, Role, User
    from schools.models import Classroom, School, YearGroup

    if connection.vendor != "postgresql":
        raise SystemExit(f"DATABASE_URL must name PostgreSQL, not {connection.vendor}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average before: {load} (other work on the machine skews the figures)")
    print(f"database: {settings.DATABASES['default']['NAME']} on {connection.vendor}")
    call_command("migrate", interactive=False, verbosity=0)

    with scopes_disabled():
        district = _existing()
        if district is not None and (options.reseed or not _fits(district, size)):
            seconds = _drop(district)
            print(f"dropped the previous bench district in {seconds:.1f} s")
            district = None
        if district is None:
            started = time.perf_counter()
            counts = _seed(size)
            seed_s = time.perf_counter() - started
            print(
                f"seeded in {seed_s:.1f} s: {counts['users']:,} users, "
                f"{counts['memberships']:,} school memberships, {counts['enrollments']:,} "
                f"enrollments, {counts['teachings']:,} class teachers, {counts['tokens']:,} "
                "activation tokens (bulk_create, batches of 5,000, then VACUUM ANALYZE)"
            )
            district = _existing()
        else:
            seed_s = 0.0
            print("reusing the bench district: its counts fit (--reseed to seed it again)")
        admin = User.objects.get(district=district, role=Role.DISTRICT_ADMIN)
        ids = {
            "students": User.objects.filter(district=district, role=Role.STUDENT).count(),
            "schools": list(School.objects.filter(district=district).values_list("pk", flat=True)),
            "years": list(YearGroup.objects.filter(district=district).values_list("pk", flat=True)),
            "classrooms": list(
                Classroom.objects.filter(district=district).values_list("pk", flat=True)
            ),
            "case_managers": list(
                User.objects.filter(district=district, role__in=STAFF_ROLES, cases__isnull=False)
                .values_list("pk", flat=True)
                .distinct()[:20]
            ),
        }
        total_users = User.objects.filter(district=district).count()
        # Status counts an earlier run cached (for a minute) would flatter this one.
        people_changed(district.pk)
        client = Client(HTTP_HOST=HOST)
        client.force_login(admin, backend="accounts.backends.DistrictBackend")
    print(
        f"district {SLUG}: {total_users:,} users ({ids['students']:,} students), "
        f"{len(ids['schools'])} schools, {len(ids['years'])} year groups, "
        f"{len(ids['classrooms']):,} classrooms"
    )

    path = reverse("accounts:students")
    rng = random.Random(SEED)
    warm_up = _request_mix(random.Random(SEED + 1), ids, 10)
    mix = _request_mix(rng, ids, options.requests)

    def url_for(params: dict) -> str:
        return f"{path}?{urlencode(params)}" if params else path

    with override_settings(DEBUG=False):
        for _category, params in warm_up:
            _timed_get(client, url_for(params))
            _timed_get(client, url_for(params), naive=True)
        results, naive = [], []
        for category, params in mix:  # interleaved, so both see the same machine
            results.append({**_timed_get(client, url_for(params)), "category": category})
            naive.append({**_timed_get(client, url_for(params), naive=True), "category": category})
        same = {}
        for label, params in (
            ("plain list", {}),
            ("search + filter", {"q": "ana", "status": "active"}),
        ):
            same[label] = {
                size_: (
                    _timed_get(client, url_for({**params, "per_page": size_})),
                    _timed_get(client, url_for({**params, "per_page": size_}), naive=True),
                )
                for size_ in (25, 100)
            }

    print(f"{len(mix)} requests to {path} as the district admin, after {len(warm_up)} warm-up")
    empty = sum(1 for r in results if r["rows"] == 0)
    print(
        f"rows shown per request: {min(r['rows'] for r in results)}-"
        f"{max(r['rows'] for r in results)} ({empty} requests matched nobody)"
    )
    figures = _summary("rollbook", results)
    naive_figures = _summary("naive", naive)
    for category in ("list", "sort", "search", "filter", "filter+search"):
        picked = [r for r in results if r["category"] == category]
        ms = [r["ms"] for r in picked]
        print(
            f"  {category:14} {len(picked):3} requests: p50 {statistics.median(ms):6.1f} ms, "
            f"p95 {_pct(ms, 95):6.1f} ms, max {max(ms):6.1f} ms"
        )
    print("slowest requests:")
    slowest = sorted(results, key=lambda r: r["ms"], reverse=True)
    for r in slowest[:5]:
        top = max((float(q["time"]) for q in r["sql"]), default=0) * 1000
        print(
            f"  {r['ms']:7.1f} ms ({r['db_ms']:5.1f} ms SQL, slowest query {top:.1f} ms; "
            f"{r['cpu_ms']:5.1f} ms CPU; {r['queries']} queries, {r['rows']} rows) {r['url']}"
        )

    growth_ok = True
    for label, by_size in same.items():
        (small, small_naive), (large, large_naive) = by_size[25], by_size[100]
        growth_ok &= small["queries"] == large["queries"]
        print(
            f"queries per page, {label}: per_page=25 {small['queries']}, per_page=100 "
            f"{large['queries']} ({'same' if small['queries'] == large['queries'] else 'GROWS'}); "
            f"naive {small_naive['queries']} and {large_naive['queries']}"
        )

    explain = options.explain
    if explain is None:
        explain = 3 if figures["p95"] > BUDGET_MS else 0
    shapes = set()  # one plan per kind of request: ?sort=school and ?sort=-school are one
    for r in slowest:
        if len(shapes) >= explain:
            break
        params = dict(pair.split("=", 1) for pair in urlsplit(r["url"]).query.split("&") if pair)
        shape = tuple(
            sorted(
                f"{key}={value.lstrip('-')}" if key == "sort" else key
                for key, value in params.items()
                if key not in ("page", "per_page")
            )
        )
        if shape in shapes or not r["sql"]:
            continue
        shapes.add(shape)
        print(f"EXPLAIN ANALYZE for {r['url']} ({r['ms']:.1f} ms):")
        _explain(max(r["sql"], key=lambda q: float(q["time"])))

    peak_mb = _maxrss_mb()
    print(f"peak memory: {peak_mb:.0f} MB (this process, seeding included when it ran)")
    verdict = "within" if figures["p95"] <= BUDGET_MS else "OVER"
    print(f"p95 {figures['p95']:.1f} ms: {verdict} the {BUDGET_MS} ms budget")
    ratio = naive_figures["p95"] / figures["p95"]
    print(
        f"baseline ratio naive_p95 / p95: {ratio:.2f} "
        f"(p50: {naive_figures['p50'] / figures['p50']:.2f})"
    )
    if seed_s:
        print(f"seeding took {seed_s:.1f} s")
    print(
        f"RESULT users={total_users} p50_ms={figures['p50']:.1f} p95_ms={figures['p95']:.1f} "
        f"queries_max={figures['q_max']} baseline_ratio={ratio:.2f}"
    )
    if not growth_ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
