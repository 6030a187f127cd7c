"""The create step of an import on PostgreSQL, as SQL run by the server.

A batch of reviewed rows becomes its accounts, school links, class enrolments, audit
events and row outcomes in one statement (data-modifying CTEs that read the rows where
validation stored them), so no row crosses to Python and back: building, encoding and
copying 100,000 accounts cost more than the server spends writing them. commit.py keeps
the Python path, which SQLite, updates and the rare clash use; tests/bulkactions/
test_commit_sql.py holds the two to the same result.
"""

from functools import cache

from django.db import connection

from accounts.models import Role, Status, User, account_search_text_sql
from bulkactions.importing.bulk import Maker, sequence_of
from bulkactions.models import ImportRow
from schools.models import Classroom, Enrollment, School, YearGroup

# Columns the rows decide; every other column takes the default a new User gets.
_ROW_COLUMNS = {
    "id": "r.uid",
    "password": "CASE WHEN r.hashed THEN r.password_hash ELSE %(unusable)s END",
    "role": "r.role",
    "first_name": "r.first_name",
    "last_name": "r.last_name",
    "username": "r.username",
    "email": "r.email",
    "status": f"CASE WHEN r.hashed THEN '{Status.ACTIVE}' ELSE '{Status.INVITED}' END",
    "must_change_password": (
        f"r.hashed AND NOT (r.role = '{Role.STUDENT}' AND %(exempt)s)"  # as commit._user_from
    ),
    "password_mode": "CASE WHEN r.hashed THEN 'staff' ELSE %(c_password_mode)s END",
    "year_group_id": "r.year_group_id",
    "sis_id": "r.sis_id",
    "created_at": "%(now)s",
    "updated_at": "%(now)s",
    "password_changed_at": "CASE WHEN r.hashed THEN %(now)s::timestamptz END",
    "invited_at": "CASE WHEN NOT r.hashed AND r.email <> '' THEN %(now)s::timestamptz END",
    "search_text": account_search_text_sql(
        "r.first_name", "r.last_name", "r.username", "r.email", "r.sis_id"
    ),
    "school_names": "left(array_to_string(r.school_names, '; '), 500)",
    "year_ordinal": "r.year_ordinal",
}


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _statement() -> str:
    """The batch statement; the constant columns are parameters named c_<column>."""
    user_table = User._meta.db_table
    columns = [f for f in User._meta.concrete_fields]
    names = ", ".join(_q(f.column) for f in columns)
    values = ", ".join(_ROW_COLUMNS.get(f.attname, f"%(c_{f.attname})s") for f in columns)
    links = User.schools.through._meta
    schools = _q(School._meta.db_table)
    return f"""
WITH r AS MATERIALIZED (
    SELECT nextval('{sequence_of(User)}'::regclass) AS uid, rows.*
    FROM (
        SELECT ir.id AS row_id, ir.password_hash, ir.password_hash <> '' AS hashed,
            coalesce(ir.resolved ->> 'role', '{Role.STUDENT}') AS role,
            coalesce(ir."values" ->> 'first_name', '') AS first_name,
            coalesce(ir."values" ->> 'last_name', '') AS last_name,
            ir.resolved ->> 'username' AS username,
            coalesce(ir."values" ->> 'email', '') AS email,
            coalesce(ir."values" ->> 'sis_id', '') AS sis_id,
            yg.id AS year_group_id, yg.ordinal AS year_ordinal, yg.name AS year_name,
            coalesce(ir.resolved -> 'classroom_ids', '[]') AS classroom_ids,
            -- Most rows name one school: a join finds it; only the others run a query each.
            CASE WHEN one.id IS NOT NULL THEN ARRAY[one.id]
                WHEN jsonb_array_length(ir.resolved -> 'school_ids') > 1 THEN ARRAY(
                    SELECT school.id FROM {schools} school
                    WHERE school.district_id = %(district)s AND school.id IN (
                        SELECT value::bigint
                        FROM jsonb_array_elements_text(ir.resolved -> 'school_ids')
                    )
                )
                ELSE '{{}}'::bigint[] END AS school_ids,
            CASE WHEN one.id IS NOT NULL THEN ARRAY[one.name]
                WHEN jsonb_array_length(ir.resolved -> 'school_ids') > 1 THEN ARRAY(
                    SELECT school.name FROM {schools} school
                    WHERE school.district_id = %(district)s AND school.id IN (
                        SELECT value::bigint
                        FROM jsonb_array_elements_text(ir.resolved -> 'school_ids')
                    )
                    ORDER BY school.name COLLATE "C"  -- code point order, as Python's sorted()
                )
                ELSE '{{}}'::varchar[] END AS school_names
        FROM {_q(ImportRow._meta.db_table)} ir
        LEFT JOIN {schools} one
            ON jsonb_array_length(ir.resolved -> 'school_ids') = 1
            AND one.id = (ir.resolved -> 'school_ids' ->> 0)::bigint
            AND one.district_id = %(district)s
        LEFT JOIN {_q(YearGroup._meta.db_table)} yg
            ON yg.id = (ir.resolved ->> 'year_group_id')::bigint
            AND yg.district_id = %(district)s
        WHERE ir.id = ANY(%(row_ids)s) AND ir.job_id = %(job)s AND ir.outcome = ''
        ORDER BY ir.number
    ) rows
),
users AS (
    INSERT INTO {_q(user_table)} ({names}) SELECT {values} FROM r
),
links AS (
    INSERT INTO {_q(links.db_table)} (user_id, school_id)
    SELECT r.uid, school_id FROM r, unnest(r.school_ids) AS school_id
),
enrolments AS (
    INSERT INTO {_q(Enrollment._meta.db_table)} (district_id, classroom_id, student_id, created_at)
    SELECT %(district)s, room.id, r.uid, %(now)s
    FROM r
    CROSS JOIN LATERAL jsonb_array_elements_text(r.classroom_ids) AS wanted(value)
    JOIN {_q(Classroom._meta.db_table)} room
        ON room.id = wanted.value::bigint AND room.district_id = %(district)s
),
events AS (
    INSERT INTO accounts_auditevent (district_id, actor_id, actor_label, action, target_type,
        target_id, target_label, before, after, created_at)
    SELECT %(district)s, %(actor)s, %(actor_label)s, 'accounts.user.created', 'user', r.uid,
        left(btrim(r.first_name || ' ' || r.last_name) || ' (' || r.username || ')', 200),
        '{{}}',
        jsonb_build_object(  -- accounts.services.users.user_snapshot, and the import
            'role', r.role, 'first_name', r.first_name, 'last_name', r.last_name,
            'username', r.username, 'email', r.email,
            'status', CASE WHEN r.hashed THEN '{Status.ACTIVE}' ELSE '{Status.INVITED}' END,
            'year_group', r.year_name, 'schools', to_jsonb(r.school_names),
            'must_change_password', r.hashed AND NOT (r.role = '{Role.STUDENT}' AND %(exempt)s),
            'import', %(job)s
        ),
        %(now)s
    FROM r
),
outcomes AS (
    UPDATE {_q(ImportRow._meta.db_table)} ir SET outcome = 'created', user_id = r.uid
    FROM r WHERE ir.id = r.row_id
)
SELECT r.uid, NOT r.hashed AND r.email <> '' FROM r ORDER BY r.uid
"""  # noqa: S608 - table and column names only; values are parameters


def constants(
    *, district_id: int, job_id: int, actor, actor_label: str, exempt: bool, unusable: str
):
    """The statement's parameters that are the same for every batch of a job."""
    template = Maker(User, district_id=district_id, source="import")
    params = {
        f"c_{f.attname}": template.template[i] for i, f in enumerate(User._meta.concrete_fields)
    }
    params.update(
        district=district_id,
        job=job_id,
        actor=actor.pk if actor else None,
        actor_label=actor_label,
        exempt=exempt,
        unusable=unusable,
    )
    return params


def create_rows(params: dict, row_ids: list[int], now) -> list[tuple[int, bool]]:
    """Creates the accounts of these rows (those still without an outcome, locked by the
    caller): returns (account id, to invite) for each."""
    with connection.cursor() as cursor:
        cursor.execute(_statement(), {**params, "row_ids": row_ids, "now": now})
        return cursor.fetchall()


def clashing_rows(params: dict) -> list[int]:
    """The job's rows still to create whose email, username or SIS id an account of the
    district holds now (taken since the review): three hash joins, not a lookup per row."""
    pending = (
        "ir.job_id = %(job)s AND ir.outcome = '' AND ir.status IN ('valid', 'warning') "
        "AND NOT ir.resolved ? 'user_id'"
    )
    rows, users = _q(ImportRow._meta.db_table), _q(User._meta.db_table)
    joins = (
        "lower(u.username) = ir.username_key",
        "ir.email_key <> '' AND u.email <> '' AND lower(u.email) = ir.email_key",
        "ir.sis_key <> '' AND lower(u.sis_id) = ir.sis_key",
    )
    statement = " UNION ".join(
        f"SELECT ir.id FROM {rows} ir JOIN {users} u ON u.district_id = %(district)s AND {on} WHERE {pending}"  # noqa: S608, E501 - names only
        for on in joins
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [pk for (pk,) in cursor.fetchall()]
